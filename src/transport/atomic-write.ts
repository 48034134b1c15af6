// Transport.writeFile for every transport: the content goes over the command's stdin into a
// script that replaces the file atomically.
import { randomBytes } from 'node:crypto'
import { basename, dirname } from 'node:path'
import { CommandError } from '../errors.js'
import { quote } from '../shell.js'
import type { Transport } from './types.js'

export type WriteFileOptions = { mode?: string; owner?: string; become?: boolean }

// Writes `content` to `path` on the transport's host through `exec` (as the become user unless
// `become: false`); a failure is a CommandError naming the file.
export async function writeFileAtomically(exec: Transport['exec'], host: string, path: string, content: string | Buffer, options: WriteFileOptions = {}): Promise<void> {
  if (options.mode !== undefined && !/^[0-7]{3,4}$/.test(options.mode)) throw new Error(`bad file mode ${JSON.stringify(options.mode)} for ${path}`)
  const data = typeof content === 'string' ? Buffer.from(content) : content
  const result = await exec(atomicWriteScript(path, { ...options, size: data.length }), { stdin: data, become: options.become ?? true })
  if (result.exitCode !== 0) throw new CommandError(host, result, `Writing ${path}`)
}

// The shell text that writes stdin to a temp file beside `path`, sets mode and owner, then renames
// it over the target (same directory, same filesystem: rename(2) is atomic). With no mode/owner
// given, an existing target's are kept; a new file gets 0644.
// `size`: the bytes the caller sends; input cut short (a connection dropped mid-stdin ends `cat` as a
// plain EOF) is then refused instead of renamed into place half-written.
export function atomicWriteScript(path: string, options: { mode?: string; owner?: string; size?: number } = {}): string {
  const dir = dirname(path)
  const tmp = `${dir}/.${basename(path)}.gpufleet-${randomBytes(6).toString('hex')}.tmp`
  const q = quote(path)
  const t = quote(tmp)
  const lines = [
    'set -e',
    'umask 077',
    `trap ${quote(`rm -f -- ${t}`)} EXIT`,
    `cat > ${t}`,
    ...(options.size !== undefined ? [`got=$(stat -c %s ${t}); [ "$got" = ${options.size} ] || { echo ${quote(`gpufleet: ${path}: input cut short: got`)} "$got" ${quote(`of ${options.size} bytes; not replaced`)} >&2; exit 1; }`] : []),
    options.mode !== undefined ? `chmod ${options.mode} ${t}` : `if [ -e ${q} ]; then chmod "$(stat -c %a ${q})" ${t}; else chmod 0644 ${t}; fi`,
    options.owner !== undefined ? `chown ${quote(options.owner)} ${t}` : `if [ -e ${q} ] && [ "$(id -u)" = 0 ]; then chown "$(stat -c %u:%g ${q})" ${t}; fi`,
    `mv -f -- ${t} ${q}`,
    'trap - EXIT',
  ]
  return lines.join('\n')
}
