import { defineFact } from './define.js'
import { section, splitSections } from './sections.js'

// The systemd unit gpufleet installs to re-apply the SMT state at boot (SMT is runtime-only on POWER).
export const SMT_UNIT_NAME = 'gpufleet-smt.service'
// Where the unit is installed (admin units override packaged ones).
export const SMT_UNIT_PATH = `/etc/systemd/system/${SMT_UNIT_NAME}`

// The unit file content and whether systemd will start it at boot.
export interface SmtUnit {
  exists: boolean
  content?: string
  enabled: boolean // `systemctl is-enabled` says enabled, or the multi-user wants/ link exists
  isEnabled: string // raw is-enabled answer ('' when systemctl printed nothing)
}

// Reads the unit file and its enablement.
export const smtUnit = defineFact({
  name: 'systemd.smt-unit',
  command: [`if [ -f ${SMT_UNIT_PATH} ]; then echo "@@ content"; cat ${SMT_UNIT_PATH}; echo; fi`, `echo "@@ is-enabled $(systemctl is-enabled ${SMT_UNIT_NAME} 2>/dev/null)"`, `[ -e /etc/systemd/system/multi-user.target.wants/${SMT_UNIT_NAME} ] && echo "@@ wanted"`, 'true'].join('\n'),
  parse(stdout): SmtUnit {
    const sections = splitSections(stdout)
    const content = section(sections, 'content')
    const isEnabled = section(sections, 'is-enabled')?.arg.trim() ?? ''
    const wanted = !!section(sections, 'wanted')
    return {
      exists: !!content,
      ...(content ? { content: content.lines.join('\n') + '\n' } : {}),
      enabled: isEnabled === 'enabled' || (isEnabled === '' && wanted) || (wanted && isEnabled !== 'disabled'),
      isEnabled,
    }
  },
})
