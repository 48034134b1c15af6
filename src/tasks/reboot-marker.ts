import { REBOOT_SENTINEL } from '../facts/reboot-sentinel.js'
import { quote } from '../shell.js'
import type { Step } from './define.js'

// Shell text that appends a reason to the reboot sentinel (root prefixes the path in tests).
export function markRebootScript(reason: string, root = ''): string {
  const path = root + REBOOT_SENTINEL
  return `mkdir -p ${quote(path.slice(0, path.lastIndexOf('/')))} && printf '%s\\n' ${quote(reason)} >> ${quote(path)}`
}

// A step that records why the host needs a reboot (kured-style sentinel, cleared by the reboot).
export function markRebootStep(reason: string): Step {
  return { kind: 'run', description: `mark reboot pending: ${reason}`, command: markRebootScript(reason) }
}
