// Splits a fact's output into the sections its command printed between `@@ <name> <arg...>` marker
// lines, so one fact can read several files and tools in its single slot of the gather script.

// One `@@ name arg` section of a fact's output.
export interface Section {
  name: string
  arg: string // the rest of the marker line, e.g. a file path or an mtime
  lines: string[]
}

// Marker lines never occur in the files we cat (grub, BLS, modprobe.d, libvirt XML).
export function splitSections(stdout: string): Section[] {
  const sections: Section[] = []
  let current: Section | null = null
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/\r$/, '')
    const m = /^@@ (\S+)(?: (.*))?$/.exec(line)
    if (m) {
      current = { name: m[1], arg: m[2] ?? '', lines: [] }
      sections.push(current)
    } else if (current) {
      current.lines.push(line)
    }
  }
  for (const s of sections) while (s.lines.length > 0 && s.lines[s.lines.length - 1] === '') s.lines.pop()
  return sections
}

// The first section with this name, if the command printed it.
export function section(sections: Section[], name: string): Section | undefined {
  return sections.find((s) => s.name === name)
}
