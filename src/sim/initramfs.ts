// The simulator's initramfs image format, shared with sim-tools' dracut and lsinitrd.
// A text manifest, not a cpio: what matters for the boot rules is which kernel it was built for,
// which modules it carries and which modprobe.d files it embeds. A missing `end` trailer = truncated.

// First line of every image.
export const INITRAMFS_MAGIC = 'GPUFLEET-SIM-INITRAMFS 1'

// What a built image holds.
export interface InitramfsImage {
  kver: string
  args: string
  modules: string[]
  files: Record<string, string> // embedded config files (path without leading /) -> content
}

// Renders an image in the format sim-tools/usr/bin/dracut writes.
export function renderInitramfs(image: InitramfsImage): string {
  const lines = [INITRAMFS_MAGIC, `kver ${image.kver}`, `args ${image.args}`]
  for (const mod of image.modules) lines.push(`module ${mod}`)
  let out = lines.join('\n') + '\n'
  for (const [path, content] of Object.entries(image.files)) {
    out += `file ${path} ${Buffer.byteLength(content)}\n${content}`
  }
  return out + 'end\n'
}

// Parses an image; undefined when it is not one or it is truncated (an unbootable image).
export function parseInitramfs(text: string): InitramfsImage | undefined {
  if (!text.startsWith(INITRAMFS_MAGIC + '\n') || !text.endsWith('\nend\n')) return undefined
  const image: InitramfsImage = { kver: '', args: '', modules: [], files: {} }
  const buf = Buffer.from(text)
  let pos = INITRAMFS_MAGIC.length + 1
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos)
    if (nl < 0) return undefined
    const line = buf.subarray(pos, nl).toString()
    pos = nl + 1
    if (line === 'end') return pos === buf.length ? image : undefined
    const sp = line.indexOf(' ')
    const key = sp < 0 ? line : line.slice(0, sp)
    const rest = sp < 0 ? '' : line.slice(sp + 1)
    if (key === 'kver') image.kver = rest
    else if (key === 'args') image.args = rest
    else if (key === 'module') image.modules.push(rest)
    else if (key === 'file') {
      const m = /^(\S+) (\d+)$/.exec(rest)
      if (!m) return undefined
      const size = Number(m[2])
      image.files[m[1]!] = buf.subarray(pos, pos + size).toString()
      pos += size
    } else return undefined
  }
  return undefined
}
