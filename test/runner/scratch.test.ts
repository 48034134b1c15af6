import { it } from 'vitest'
import { startTestRack, runQuiet } from './rack-helpers.js'
it('scratch', async () => {
  const f = await startTestRack('hostsPerRack: 3\nprofile: ac922\n', { hosts: 4 })
  try {
    const spec = f.spec({ output: 'plain', roll: { maxUnavailable: { kind: 'count', n: 2 }, perRack: 1 } })
    const r = await runQuiet(spec)
    console.log(r.output)
    console.log(JSON.stringify(f.rack.events().filter(e => e.kind !== 'exec').map(e => [e.t, e.host, e.kind]).slice(0,40)))
  } finally { await f.rack.stop() }
}, 120000)
