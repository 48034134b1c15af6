import { describe, expect, it } from 'vitest'
import type { FleetEvent } from '../../src/events.js'
import { createEventBus } from '../../src/runner/emit.js'
import { checkBlockers, type GuestContext } from '../../src/runner/guests.js'
import { DEFAULT_HYPERVISOR_TIMING } from '../../src/runner/hypervisor-options.js'
import { createLocalTransport } from '../../src/transport/local.js'

// Reboot blockers run through a real shell (the local transport): the first one that exits
// non-zero holds the reboot, with its exit code and the tail of its output; the rest do not run.

function context(events: FleetEvent[]): GuestContext {
  return { host: 'local', transport: createLocalTransport('local'), become: false, emit: createEventBus([(e) => events.push(e)]), signal: new AbortController().signal, timing: DEFAULT_HYPERVISOR_TIMING, commandTimeoutMs: 10_000 }
}

describe('checkBlockers', () => {
  it('passes when every blocker exits 0, and names the first that does not', async () => {
    const ctx = context([])
    expect(await checkBlockers(ctx, ['true', 'test 1 -eq 1'])).toBeUndefined()
    const held = await checkBlockers(ctx, ['true', "echo 'job 4711 running on this node'; exit 3", 'echo never >&2; exit 9'])
    expect(held).toEqual({ command: "echo 'job 4711 running on this node'; exit 3", exitCode: 3, output: 'job 4711 running on this node' })
  })

  it('a blocker cannot end the script that runs the others, and its quotes stay its own', async () => {
    const ctx = context([])
    expect(await checkBlockers(ctx, ['exit 0', "printf '%s' \"it's fine\" >/dev/null", '! grep -q . /dev/null'])).toBeUndefined()
    expect(await checkBlockers(ctx, ['exit 0', '! echo "$(echo nested) ok" | grep -q ok'])).toMatchObject({ command: '! echo "$(echo nested) ok" | grep -q ok', exitCode: 1 })
  })

  it('runs nothing without blockers', async () => {
    expect(await checkBlockers(context([]), [])).toBeUndefined()
  })
})
