import { defineFact } from './define.js'
import { section, splitSections } from './sections.js'

// kured-style sentinel: tasks that stage a change only a reboot makes live append a reason line;
// /run is a tmpfs, so the reboot itself clears it. gpufleet prefixes each line with the boot_id it
// was written in, so a line that survives a reboot (a /run that is not a tmpfs) is recognised as
// stale instead of rebooting the host again on every run.
export const REBOOT_SENTINEL = '/run/gpufleet/reboot-required'

// Whether a reboot is pending per the sentinel, with the reasons written in this boot.
export interface RebootSentinel {
  present: boolean // the file exists with at least one current reason
  reasons: string[]
  staleLines: number // lines written in an earlier boot (ignored)
}

// Reads the sentinel and the current boot_id.
export const rebootSentinel = defineFact({
  name: 'host.reboot-sentinel',
  command: `echo "@@ boot-id $(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"; if [ -f ${REBOOT_SENTINEL} ]; then echo "@@ present"; cat ${REBOOT_SENTINEL}; echo; fi; true`,
  parse(stdout): RebootSentinel {
    const sections = splitSections(stdout)
    const bootId = section(sections, 'boot-id')?.arg.trim()
    const s = section(sections, 'present')
    if (!s) return { present: false, reasons: [], staleLines: 0 }
    const reasons: string[] = []
    let staleLines = 0
    for (const raw of s.lines) {
      const line = raw.trim()
      if (!line) continue
      const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) (.*)$/.exec(line)
      if (m && bootId && m[1] !== bootId) staleLines++
      else reasons.push(m ? m[2] : line)
    }
    // A file with only blank lines still says "reboot" to kured-style tools; honour that too.
    const bare = reasons.length === 0 && staleLines === 0
    return { present: reasons.length > 0 || bare, reasons: [...new Set(reasons)], staleLines }
  },
})
