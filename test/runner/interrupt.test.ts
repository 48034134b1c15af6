import { describe, expect, it } from 'vitest'
import type { FleetEvent } from '../../src/events.js'
import { createEventBus } from '../../src/runner/emit.js'
import { installInterruptHandler } from '../../src/runner/interrupt.js'

describe('Ctrl-C', () => {
  it('first interrupt stops new work, the second aborts', () => {
    const events: FleetEvent[] = []
    const listeners = process.listenerCount('SIGINT')
    const i = installInterruptHandler(createEventBus([(e) => events.push(e)]), true)
    try {
      process.emit('SIGINT')
      expect(i.stop.aborted).toBe(true)
      expect(i.abort.aborted).toBe(false)
      process.emit('SIGINT')
      expect(i.abort.aborted).toBe(true)
      expect(events.map((e) => e.kind === 'interrupted' && e.second)).toEqual([false, true])
    } finally {
      i.dispose()
    }
    expect(process.listenerCount('SIGINT')).toBe(listeners)
  })
})
