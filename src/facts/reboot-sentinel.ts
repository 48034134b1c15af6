import { defineFact } from './define.js'
import { section, splitSections } from './sections.js'

// kured-style sentinel: tasks that stage a change only a reboot makes live append a reason line;
// /run is a tmpfs, so the reboot itself clears it.
export const REBOOT_SENTINEL = '/run/gpufleet/reboot-required'

export interface RebootSentinel {
  present: boolean
  reasons: string[]
}

export const rebootSentinel = defineFact({
  name: 'host.reboot-sentinel',
  command: `if [ -f ${REBOOT_SENTINEL} ]; then echo "@@ present"; cat ${REBOOT_SENTINEL}; fi; true`,
  parse(stdout): RebootSentinel {
    const s = section(splitSections(stdout), 'present')
    if (!s) return { present: false, reasons: [] }
    return { present: true, reasons: [...new Set(s.lines.map((l) => l.trim()).filter(Boolean))] }
  },
})
