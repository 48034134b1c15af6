import { REBOOT_SENTINEL } from '../../facts/reboot-sentinel.js'
import { quote } from '../../shell.js'
import type { Step } from '../define.js'

// Shell text that appends "<boot_id> <reason>" to the reboot sentinel (root prefixes the path in
// tests); the boot_id lets the fact tell this boot's lines from stale ones.
export function markRebootScript(reason: string, root = ''): string {
  const path = root + REBOOT_SENTINEL
  return `mkdir -p ${quote(path.slice(0, path.lastIndexOf('/')))} && printf '%s %s\\n' "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo -)" ${quote(reason)} >> ${quote(path)}`
}

// A step that records why the host needs a reboot (kured-style sentinel, cleared by the reboot).
export function markRebootStep(reason: string): Step {
  return { kind: 'run', description: `mark reboot pending: ${reason}`, command: markRebootScript(reason) }
}
