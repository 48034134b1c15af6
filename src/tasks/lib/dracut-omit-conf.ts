import { DRACUT_CONF_DIR } from '../../facts/dracut-config.js'

// gpufleet's dracut drop-in: `--omit-drivers` on the command line only shapes the image gpufleet
// rebuilds; this file makes every later dracut run (a kernel update's new image included) omit the
// same drivers. Named so it sorts after numbered drop-ins; a later file that assigns omit_drivers
// with `=` instead of `+=` would still reset the list (dracut.conf(5)).
export const DRACUT_OMIT_CONF = `${DRACUT_CONF_DIR}/gpufleet-omit-nouveau.conf`

// The drop-in's text: a header saying who wrote it and why, then one omit_drivers+= line. The
// value keeps a space at both ends, as dracut.conf(5) asks of `+=` values so lists concatenate.
export function dracutOmitContent(drivers: string[]): string {
  return [
    '# Written by gpufleet (initramfs.rebuild, the prep playbook). Do not edit: gpufleet rewrites it.',
    '# dracut leaves these drivers out of every initramfs it builds, including the ones a kernel',
    '# update builds later, so nouveau cannot take the GPUs before vfio-pci does (the modprobe.d',
    '# blacklist alone is copied into the image, but the driver would still be in it).',
    '# `gpufleet run rollback` removes this file.',
    `omit_drivers+=" ${drivers.join(' ')} "`,
    '',
  ].join('\n')
}

// The drivers a drop-in's omit_drivers lines name (comments ignored; `=` resets, `+=` appends).
export function omittedDrivers(content: string): string[] {
  let list: string[] = []
  for (const raw of content.split('\n')) {
    const m = /^\s*omit_drivers\s*(\+?)=\s*(["']?)(.*)\2\s*$/.exec(raw.replace(/#.*/, ''))
    if (!m) continue
    const words = m[3].split(/\s+/).filter(Boolean)
    list = m[1] ? [...list, ...words] : words
  }
  return list
}

// Same settings as what gpufleet would write (comments and spacing aside): nothing to rewrite.
export function sameDracutSettings(current: string, drivers: string[]): boolean {
  const settings = (t: string) =>
    t
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean)
  const cur = settings(current)
  // Only `+=` omit_drivers lines with the value spaced at both ends (else dracut may glue it to the
  // previous value), naming exactly these drivers, in any order.
  return cur.every((l) => /^omit_drivers\s*\+=\s*(["'])\s[^"']*\s\1$/.test(l)) && sameSet(omittedDrivers(current), drivers)
}

function sameSet(a: string[], b: string[]): boolean {
  const x = [...new Set(a)].sort()
  const y = [...new Set(b)].sort()
  return x.length === y.length && x.every((v, i) => v === y[i])
}
