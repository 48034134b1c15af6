import { splitCmdline } from './kernel-cmdline.js'

// /etc/default/grub: a shell fragment of KEY=value lines that grub2-mkconfig sources.
export interface DefaultGrub {
  raw: string
  vars: Record<string, string> // values with one level of shell quoting removed
  cmdlineLinux: string[] // GRUB_CMDLINE_LINUX split into words
}

// Parses the simple assignments grub2-mkconfig uses; `$VAR` references are kept verbatim.
export function parseDefaultGrub(raw: string): DefaultGrub {
  const vars: Record<string, string> = {}
  for (const line of raw.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.replace(/\r$/, ''))
    if (!m) continue
    vars[m[1]] = shellValue(m[2])
  }
  return { raw, vars, cmdlineLinux: splitCmdline(vars.GRUB_CMDLINE_LINUX ?? '') }
}

// One shell word: "double", 'single' or bare, with a trailing comment dropped.
function shellValue(text: string): string {
  const t = text.trim()
  if (t.startsWith('"')) {
    // The closing quote is the first one not escaped: `"ro acpi_osi=\"Linux\""` is one value.
    const end = /^"((?:[^"\\]|\\.)*)"/.exec(t)
    return (end ? end[1] : t.slice(1)).replace(/\\(["\\$`])/g, '$1')
  }
  if (t.startsWith("'")) {
    const end = t.indexOf("'", 1)
    return end < 0 ? t.slice(1) : t.slice(1, end)
  }
  return t.split(/\s+#/)[0].trim()
}
