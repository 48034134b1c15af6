// One rack per directory: DIR/rack.lock holds the pid of the process running it.
import fs from 'node:fs'
import path from 'node:path'
import { UsageError } from '../errors.js'

// Takes DIR's lock (refused while another live process holds it); returns the lock file.
export function claimRackLock(dir: string): string {
  const lock = path.join(dir, 'rack.lock')
  try {
    const other = Number(fs.readFileSync(lock, 'utf8'))
    if (other && other !== process.pid) {
      process.kill(other, 0)
      throw new UsageError(`a simulated rack is already running in ${dir} (pid ${other}); run \`gpufleet sim down --dir ${dir}\``)
    }
  } catch (e) {
    if (e instanceof UsageError) throw e
  }
  fs.writeFileSync(lock, String(process.pid))
  return lock
}
