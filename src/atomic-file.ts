import { closeSync, constants, fstatSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'
import { UsageError } from './errors.js'

// How gpufleet writes its local files (run state, reports): readable by the owner only (0600), never
// through a symlink, and a file is either its old or its new content, never a torn mix.

// Writes `text` to `file` atomically: a new temp file in the same directory (O_EXCL|O_NOFOLLOW,
// 0600), written and fsynced, renamed over `file`, then the directory fsynced so the rename itself
// survives a crash. A symlink at `file` is replaced, never followed; a hard link to the old file
// keeps the old content.
export function writeFileAtomic(file: string, text: string): void {
  const dir = dirname(file)
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    unlinkSync(tmp)
    throw error
  }
  closeSync(fd)
  try {
    renameSync(tmp, file)
  } catch (error) {
    unlinkSync(tmp)
    throw error
  }
  fsyncDir(dir)
}

// Opens `file` for appending (journal, events.jsonl): created 0600, never through a symlink, and
// refused when it exists but is not a regular file of ours.
export function openAppendPrivate(file: string): number {
  let fd: number
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new UsageError(`${file} is a symlink; refusing to write through it`)
    throw error
  }
  const st = fstatSync(fd)
  if (!st.isFile() || st.uid !== (process.geteuid?.() ?? 0) || st.nlink > 1) {
    closeSync(fd)
    throw new UsageError(`${file} is not a regular file owned by you (or has other hard links); refusing to append to it`)
  }
  return fd
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY)
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
