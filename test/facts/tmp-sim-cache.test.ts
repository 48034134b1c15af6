import { execa } from 'execa'
import { rmSync } from 'node:fs'
import { expect, test } from 'vitest'
import { initramfsStatus } from '../../src/facts/initramfs-status.js'
import { runQuiet, startTestRack } from '../runner/rack-helpers.js'

test('sim: after prep the next-boot image is served from the record', async () => {
  const f = await startTestRack('hostsPerRack: 3\nprofile: ac922\nrules:\n  - match: "*-03"\n    profile: s822lc\n  - match: "*-02"\n    profile: pcie\n', { hosts: 3 })
  try {
    await runQuiet(f.spec())
    for (const h of f.rack.hosts) {
      const r = await execa('ssh', ['-i', f.rack.clientKeyFile, '-o', `UserKnownHostsFile=${f.rack.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-p', String(h.port), `root@${h.address}`, initramfsStatus.command], { reject: false })
      console.log(h.name, h.profile, '\n' + r.stdout + r.stderr)
      const s = initramfsStatus.parse(r.stdout, 0)
      console.log(JSON.stringify(s.images.map((i) => [i.path, i.cached, i.skipped, i.nouveauDriver])))
    }
  } finally {
    await f.rack.stop()
    rmSync(f.dir, { recursive: true, force: true })
  }
}, 240_000)
