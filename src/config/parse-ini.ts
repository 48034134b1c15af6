// An INI reader with the rules of Python's configparser as Ansible configures it for ansible.cfg
// (`ConfigParser(inline_comment_prefixes=(';',))`, read with raw=True, i.e. no %-interpolation):
// - `#` or `;` as the first non-blank character makes the line a comment;
// - `;` after whitespace starts a comment inside a line (`#` there is part of the value);
// - `key = value` and `key: value` (the first `=` or `:`); keys are lower-cased, values trimmed;
// - a line indented deeper than its key continues the key's value (joined with a newline);
// - a key or section given twice, or a line that is neither, is an error (strict mode).

// One value and the line it starts on.
export interface IniValue {
  value: string
  line: number
}

// Sections by name (case kept, as configparser does), keys lower-cased.
export type IniSections = Map<string, Map<string, IniValue>>

// A syntax error at `line` (1-based) of the text.
export class IniSyntaxError extends Error {
  readonly line: number
  constructor(line: number, message: string) {
    super(message)
    this.line = line
  }
}

const SECTION = /^\[(.+)\]/
const OPTION = /^(.*?)\s*([=:])\s*(.*)$/

// Parses INI text; throws IniSyntaxError for what configparser refuses.
export function parseIni(text: string): IniSections {
  const sections: IniSections = new Map()
  let section: Map<string, IniValue> | undefined
  // The key being read (its value may continue on deeper-indented lines) and its key's indent.
  let open: { entry: IniValue; lines: string[] } | undefined
  let indent = 0
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!
    const number = i + 1
    const commentAt = commentStart(raw)
    const value = raw.slice(0, commentAt).trim()
    if (value === '') {
      // A blank line may sit inside a multi-line value; a comment line is skipped entirely.
      if (commentAt === raw.length && open) open.lines.push('')
      continue
    }
    const lineIndent = raw.length - raw.trimStart().length
    if (open && lineIndent > indent) {
      open.lines.push(value)
      open.entry.value = open.lines.join('\n').trimEnd()
      continue
    }
    indent = lineIndent
    open = undefined
    const header = SECTION.exec(value)
    if (header) {
      const name = header[1]!
      if (sections.has(name)) throw new IniSyntaxError(number, `section [${name}] appears twice`)
      section = new Map()
      sections.set(name, section)
      continue
    }
    if (!section) throw new IniSyntaxError(number, `'${value}' comes before any [section] header`)
    const option = OPTION.exec(value)
    const key = option?.[1]?.trimEnd().toLowerCase()
    if (!option || !key) throw new IniSyntaxError(number, `'${value}' is not 'key = value'`)
    if (section.has(key)) throw new IniSyntaxError(number, `'${key}' is set twice in this section`)
    const entry = { value: option[3]!.trim(), line: number }
    section.set(key, entry)
    open = { entry, lines: [entry.value] }
  }
  return sections
}

// Where a comment starts in a line (its length if none): a line whose first non-blank character is
// `#` or `;`, or an inline `;` at the start or after whitespace.
function commentStart(line: string): number {
  const trimmed = line.trimStart()
  if (trimmed.startsWith('#') || trimmed.startsWith(';')) return 0
  for (let at = line.indexOf(';'); at >= 0; at = line.indexOf(';', at + 1)) {
    if (at === 0 || /\s/.test(line[at - 1]!)) return at
  }
  return line.length
}

// A key's value in a section, falling back to [DEFAULT] as configparser does (only for a section
// that exists: configparser raises NoSectionError otherwise, which Ansible reads as "not set").
export function iniGet(sections: IniSections, section: string, key: string): IniValue | undefined {
  const found = sections.get(section)
  if (!found) return undefined
  return found.get(key) ?? sections.get('DEFAULT')?.get(key)
}
