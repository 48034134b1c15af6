// A reader for the parts of ~/.ssh/config gpufleet honours: `Host` blocks (patterns with *, ?, !),
// HostName, User, Port, IdentityFile, ProxyJump, UserKnownHostsFile, StrictHostKeyChecking,
// IdentitiesOnly, ConnectTimeout, and `Include`. `Match` blocks are skipped (their conditions
// need the exec/network context ssh has), which only ever makes us apply fewer settings.
import { readdir, readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, dirname, isAbsolute, join } from 'node:path'
import { globMatch, matchPatternList } from './host-pattern.js'

export interface SshConfigLine {
  key: string // lowercased keyword
  value: string
  args: string[]
  source: string // file:line
}

export interface SshConfigBlock {
  patterns: string[] | null // null: global lines before the first Host (apply to every host)
  skip: boolean // a Match block
  lines: SshConfigLine[]
}

// What one host resolves to. First value wins (OpenSSH), except IdentityFile, which accumulates.
export interface SshConfigHost {
  hostName?: string
  user?: string
  port?: number
  identityFiles: string[]
  proxyJump?: string
  userKnownHostsFile?: string
  strictHostKeyChecking?: 'yes' | 'no' | 'accept-new' | 'ask'
  identitiesOnly?: boolean
  connectTimeoutMs?: number
}

// Splits a config line into keyword and arguments (`Key value`, `Key=value`, "quoted args").
function tokenize(line: string): string[] {
  const out: string[] = []
  const re = /"([^"]*)"|([^\s"]+)/g
  let m: RegExpExecArray | null
  while ((m = re.exec(line))) out.push(m[1] ?? m[2]!)
  return out
}

// Parses one file's text into blocks (Include lines are kept as lines for loadSshConfig).
export function parseSshConfig(text: string, file: string): SshConfigBlock[] {
  const blocks: SshConfigBlock[] = [{ patterns: null, skip: false, lines: [] }]
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/\r$/, '').trim()
    if (line === '' || line.startsWith('#')) continue
    // `Key=value` and `Key = value`: the first `=` separates only when it comes before any space.
    const eq = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(line)
    if (eq) line = `${eq[1]} ${eq[2]}`
    const [keyword, ...args] = tokenize(line)
    if (!keyword) continue
    const key = keyword.toLowerCase()
    const source = `${file}:${i + 1}`
    if (key === 'host') blocks.push({ patterns: args, skip: false, lines: [] })
    else if (key === 'match') blocks.push({ patterns: null, skip: true, lines: [] })
    else blocks[blocks.length - 1]!.lines.push({ key, value: args.join(' '), args, source })
  }
  return blocks
}

export function expandHome(path: string): string {
  if (path === '~') return homedir()
  if (path.startsWith('~/')) return join(homedir(), path.slice(2))
  return path
}

// Reads a config file and the files its `Include` lines name (relative to ~/.ssh; `*` globs in
// the last path component). A missing top-level file is an empty config.
export async function loadSshConfig(file: string = join(homedir(), '.ssh', 'config'), depth = 0): Promise<SshConfigBlock[]> {
  let text: string
  try {
    text = await readFile(expandHome(file), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const blocks = parseSshConfig(text, file)
  if (depth >= 8) return blocks // OpenSSH's include depth limit guards against loops
  const out: SshConfigBlock[] = []
  for (const block of blocks) {
    const kept: SshConfigLine[] = []
    let current: SshConfigBlock = { ...block, lines: kept }
    out.push(current)
    for (const line of block.lines) {
      if (line.key !== 'include') {
        current.lines.push(line)
        continue
      }
      for (const pattern of line.args) {
        for (const inc of await globFiles(isAbsolute(expandHome(pattern)) ? expandHome(pattern) : join(homedir(), '.ssh', pattern))) {
          // An included file's blocks apply only where the Include line sits (inside this Host).
          for (const b of await loadSshConfig(inc, depth + 1)) {
            out.push(b.patterns === null && !b.skip ? { ...b, patterns: block.patterns, skip: block.skip } : b)
          }
        }
      }
      // Lines after the Include continue the enclosing block.
      current = { patterns: block.patterns, skip: block.skip, lines: [] }
      out.push(current)
    }
  }
  return out
}

async function globFiles(path: string): Promise<string[]> {
  const name = basename(path)
  if (!/[*?]/.test(name)) return [path]
  try {
    return (await readdir(dirname(path))).filter((f) => globMatch(name, f)).sort().map((f) => join(dirname(path), f))
  } catch {
    return []
  }
}

// Expands %h %p %r %u %d %% in a value, as ssh does for HostName/IdentityFile/UserKnownHostsFile.
export function expandTokens(value: string, tokens: { h: string; p?: number; r?: string }): string {
  return value.replace(/%([%hprud])/g, (_, t: string) => {
    switch (t) {
      case '%':
        return '%'
      case 'h':
        return tokens.h
      case 'p':
        return String(tokens.p ?? 22)
      case 'r':
        return tokens.r ?? ''
      case 'u':
        return process.env.USER ?? ''
      case 'd':
        return homedir()
      default:
        return ''
    }
  })
}

// Resolves the settings for `host` (the name as given, before HostName).
export function resolveSshConfig(blocks: readonly SshConfigBlock[], host: string): SshConfigHost {
  const first = new Map<string, SshConfigLine>()
  const identityFiles: string[] = []
  for (const block of blocks) {
    if (block.skip) continue
    if (block.patterns !== null && !matchPatternList(block.patterns, host)) continue
    for (const line of block.lines) {
      if (line.key === 'identityfile') identityFiles.push(line.value)
      else if (!first.has(line.key)) first.set(line.key, line)
    }
  }
  const get = (k: string) => first.get(k)?.value
  const result: SshConfigHost = { identityFiles: [] }
  const hostName = get('hostname')
  result.hostName = hostName ? expandTokens(hostName, { h: host }) : undefined
  const user = get('user')
  if (user) result.user = user
  const port = get('port')
  if (port && /^\d+$/.test(port)) result.port = Number(port)
  const h = result.hostName ?? host
  result.identityFiles = identityFiles.map((f) => expandHome(expandTokens(f, { h, p: result.port, r: result.user })))
  const jump = get('proxyjump')
  if (jump && jump.toLowerCase() !== 'none') result.proxyJump = jump
  const khf = first.get('userknownhostsfile')?.args[0]
  if (khf && khf.toLowerCase() !== 'none') result.userKnownHostsFile = expandHome(expandTokens(khf, { h, p: result.port, r: result.user }))
  const strict = get('stricthostkeychecking')?.toLowerCase()
  if (strict === 'yes' || strict === 'ask' || strict === 'accept-new') result.strictHostKeyChecking = strict
  else if (strict === 'no' || strict === 'off') result.strictHostKeyChecking = 'no'
  const only = get('identitiesonly')?.toLowerCase()
  if (only) result.identitiesOnly = only === 'yes' || only === 'true'
  const ct = get('connecttimeout')
  if (ct && /^\d+$/.test(ct)) result.connectTimeoutMs = Number(ct) * 1000
  if (result.hostName === undefined) delete result.hostName
  return result
}
