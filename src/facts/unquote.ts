// Strips one level of matching single or double quotes, as grubby-bls (EL9), grubenv readers and
// /etc/default/grub (a shell fragment) may print them.
export function unquote(value: string): string {
  const v = value.trim()
  if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) return v.slice(1, -1)
  return v
}
