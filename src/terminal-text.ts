// Text that reaches a terminal from outside gpufleet's own code (remote stderr and output, host and
// guest names, messages quoting them) may hold control characters: an ESC sequence can retitle the
// window, clear the screen, reset the terminal or fake earlier lines, and a CR overwrites the line.
// Every renderer passes such text through escapeControls, the one escaping helper: C0 controls
// (but tab and newline), DEL and C1 controls become visible \xNN text, so nothing is interpreted.

// Control characters a terminal may act on (C0 except tab and newline, DEL, C1).
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g

// Any control character at all, newline and tab included: refused in names (hosts, guests).
export const CONTROL_CHAR = /[\x00-\x1f\x7f-\x9f]/

export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

// The same for every string inside a value (an event on its way to the live view).
export function escapeControlsDeep<T>(value: T): T {
  if (typeof value === 'string') return escapeControls(value) as T
  if (Array.isArray(value)) return value.map(escapeControlsDeep) as T
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeControlsDeep(v)])) as T
  return value
}
