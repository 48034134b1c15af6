// Reboot requests from inside the hosts (reboot, shutdown -r, systemctl reboot write
// DIR/ctl/<host>/reboot), handed to the host that asked.
import fs from 'node:fs'
import path from 'node:path'

// Watches every host's ctl dir; `close` stops watching.
export function watchRebootRequests(dir: string, names: string[], reboot: (name: string, reason: string) => void): { close: () => void } {
  const checks: Array<() => void> = []
  const watchers = names.map((name) => {
    const ctl = path.join(dir, 'ctl', name)
    const check = () => {
      const f = path.join(ctl, 'reboot')
      if (!fs.existsSync(f)) return
      const reason = fs.readFileSync(f, 'utf8').trim() || 'reboot'
      fs.rmSync(f, { force: true })
      reboot(name, reason)
    }
    checks.push(check)
    return fs.watch(ctl, check)
  })
  // inotify is the fast path; a slow poll makes sure no request is ever lost
  const poll = setInterval(() => checks.forEach((c) => c()), 1000)
  poll.unref()
  return {
    close: () => {
      clearInterval(poll)
      for (const w of watchers) w.close()
    },
  }
}
