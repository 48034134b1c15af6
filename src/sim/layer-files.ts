// Small file helpers of the simulator's layer builders.
import fs from 'node:fs'
import path from 'node:path'

// The non-root login (sudo through the real setuid sudo).
export const ADMIN_UID = 1000

export function write(file: string, content: string | Buffer, mode?: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, content)
  if (mode !== undefined) fs.chmodSync(file, mode)
}

export function symlink(target: string, file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  try {
    fs.unlinkSync(file)
  } catch {
    /* absent */
  }
  fs.symlinkSync(target, file)
}
