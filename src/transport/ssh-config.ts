// ~/.ssh/config as OpenSSH (9.2) reads it, for the settings gpufleet uses: HostName, User, Port,
// IdentityFile, IdentitiesOnly, ProxyJump, ProxyCommand, UserKnownHostsFile, GlobalKnownHostsFile,
// StrictHostKeyChecking, ConnectTimeout.
// - `Host` and `Match` blocks (host, originalhost, user, localuser, exec, localnetwork, all,
//   canonical, final; `!` negation; comma lists) in file order; the first value obtained for a
//   keyword wins, IdentityFile accumulates (duplicates dropped).
// - `Include` (globs, relative to ~/.ssh) anywhere, also inside Host/Match: the included lines
//   apply only where the enclosing block does.
// - `Match final`/`canonical` trigger a second pass with the final host name, as ssh re-parses.
// - %-tokens and ${VAR} in IdentityFile/UserKnownHostsFile, %h in HostName,
//   %h %n %p %r in ProxyCommand; Match exec values are shell-quoted.
// test/transport/ssh-config-openssh.test.ts compares the result with `ssh -G` and `ssh -v`.
import { readdir, readFile } from 'node:fs/promises'
import { dirname, isAbsolute, join } from 'node:path'
import { quote } from '../shell.js'
import { globMatch, matchPatternList } from './ssh-patterns.js'
import { evaluateMatch, localAddresses, parseMatch, runExec, type MatchCriterion } from './ssh-match.js'
import { expandTilde, expandTokens, localIdentity, TokenError, type LocalIdentity, type TokenValues } from './ssh-tokens.js'

export interface SshConfigLine {
  key: string // lowercased keyword
  value: string
  args: string[]
  source: string // file:line
}

export type BlockCondition = { kind: 'always' } | { kind: 'host'; patterns: string[] } | { kind: 'match'; criteria: MatchCriterion[] }

export interface SshConfigBlock {
  condition: BlockCondition
  // The block whose `Include` brought this one in: it applies only when that one does (ssh reads
  // an Include inside an inactive block with nothing in it able to match).
  parent?: SshConfigBlock
  source: string
  lines: SshConfigLine[]
}

// A config error ssh would refuse to run with, with its file:line.
export class SshConfigError extends Error {}

// What one host resolves to. Fields are set only when the config sets them.
export interface SshConfigHost {
  hostName?: string
  user?: string
  port?: number
  identityFiles: string[] // expanded (~, %-tokens, ${VAR})
  proxyJump?: string
  proxyCommand?: string // expanded, for `$SHELL -c "exec …"`
  userKnownHostsFiles?: string[]
  globalKnownHostsFiles?: string[]
  knownHostsSource?: string // file:line of the UserKnownHostsFile that applied
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

// Parses one file's text into blocks (Include lines stay lines, for loadSshConfig).
export function parseSshConfig(text: string, file: string, parent?: SshConfigBlock): SshConfigBlock[] {
  const blocks: SshConfigBlock[] = [{ condition: { kind: 'always' }, source: file, lines: [], ...(parent ? { parent } : {}) }]
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
    const at = parent ? { parent } : {}
    if (key === 'host') {
      const patterns = args.filter((a, n) => !args.slice(0, n + 1).some((x) => x.startsWith('#')))
      blocks.push({ condition: { kind: 'host', patterns }, source, lines: [], ...at })
    } else if (key === 'match') {
      const criteria = parseMatch(args)
      if (typeof criteria === 'string') throw new SshConfigError(`${source}: ${criteria}`)
      blocks.push({ condition: { kind: 'match', criteria }, source, lines: [], ...at })
    } else {
      blocks[blocks.length - 1]!.lines.push({ key, value: args.join(' '), args, source })
    }
  }
  return blocks
}

// The system-wide file ssh reads after the user's (unless given -F).
export const SYSTEM_SSH_CONFIG = '/etc/ssh/ssh_config'

// What `ssh` without -F reads: ~/.ssh/config, then /etc/ssh/ssh_config (its relative Includes
// are under /etc/ssh). First value wins across both.
export async function loadDefaultSshConfig(userFile: string = join(localIdentity().home, '.ssh', 'config'), systemFile: string = SYSTEM_SSH_CONFIG): Promise<SshConfigBlock[]> {
  return [...(await loadSshConfig(userFile)), ...(await loadSshConfig(systemFile, 0, undefined, dirname(systemFile)))]
}

// Reads a config file and the files its `Include` lines name (relative to `includeBase`, ~/.ssh
// for user files; glob patterns in any path component, matches in sorted order). A missing
// top-level file is an empty config.
export async function loadSshConfig(file: string = join(localIdentity().home, '.ssh', 'config'), depth = 0, parent?: SshConfigBlock, includeBase = join(localIdentity().home, '.ssh')): Promise<SshConfigBlock[]> {
  let text: string
  try {
    text = await readFile(expandTilde(file), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const blocks = parseSshConfig(text, file, parent)
  const out: SshConfigBlock[] = []
  for (const block of blocks) {
    let current: SshConfigBlock = { ...block, lines: [] }
    out.push(current)
    for (const line of block.lines) {
      if (line.key !== 'include') {
        current.lines.push(line)
        continue
      }
      if (depth >= 16) throw new SshConfigError(`${line.source}: Include nested too deep (a loop?)`)
      for (const pattern of line.args) {
        const path = expandTilde(pattern)
        for (const inc of await globFiles(isAbsolute(path) ? path : join(includeBase, path))) {
          out.push(...(await loadSshConfig(inc, depth + 1, current, includeBase)))
        }
      }
      // Lines after the Include continue the enclosing block (same condition, same verdict).
      current = { condition: { kind: 'always' }, parent: current, source: line.source, lines: [] }
      out.push(current)
    }
  }
  return out
}

// glob(3) over every path component (`conf.d/*`, `*/config`), sorted like glob's output.
async function globFiles(path: string): Promise<string[]> {
  const parts = path.split('/').filter((p, i) => p !== '' || i === 0)
  let found = ['']
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!
    const next: string[] = []
    for (const dir of found) {
      if (!/[*?[]/.test(part)) next.push(`${dir}/${part}`)
      else {
        try {
          for (const f of (await readdir(dir || '/')).sort()) if (!f.startsWith('.') && globMatch(part, f, { caseSensitive: true })) next.push(`${dir}/${f}`)
        } catch {
          // Not a directory, or unreadable: no match, as glob(3).
        }
      }
    }
    found = next
  }
  return found
}

export interface ResolveOptions {
  local?: LocalIdentity
  runExec?: (command: string) => Promise<boolean> // default: $SHELL -c, see ssh-match.ts
  localAddresses?: () => string[]
}

// Resolves the settings for `host` (the destination as given: inventory ansible_host or name).
export async function resolveSshConfig(blocks: readonly SshConfigBlock[], host: string, options: ResolveOptions = {}): Promise<SshConfigHost> {
  // One function on purpose: ssh's two passes share first-value-wins state and token expansion; read as one sequence, like readconf.c.
  const local = options.local ?? localIdentity()
  const first = new Map<string, SshConfigLine>()
  const identityLines: SshConfigLine[] = []
  let wantFinal = false

  let finalPass = false
  const currentTokens = (): TokenValues => {
    const hostName = first.get('hostname')?.value
    const port = first.get('port')?.value
    return {
      // The final pass sees the name ssh settled on (lowercased); the first, the name as given.
      host: hostName ? expandHostName(hostName, host) : finalPass ? host.toLowerCase() : host,
      originalHost: host,
      port: port && /^\d+$/.test(port) ? Number(port) : 22,
      remoteUser: first.get('user')?.value ?? local.user,
      local,
    }
  }
  const apply = (line: SshConfigLine) => {
    switch (line.key) {
      case 'identityfile':
        if (!identityLines.some((l) => l.value === line.value)) identityLines.push(line)
        return
      case 'proxyjump':
        // ProxyJump and ProxyCommand exclude each other: whichever comes first wins.
        if (!first.has('proxycommand')) setFirst(line)
        return
      case 'proxycommand': {
        const jump = first.get('proxyjump')?.value
        if (jump === undefined || jump.toLowerCase() === 'none') setFirst(line)
        return
      }
      default:
        setFirst(line)
    }
  }
  const setFirst = (line: SshConfigLine) => {
    if (!first.has(line.key)) first.set(line.key, line)
  }

  const pass = async (hostForHostLines: string) => {
    const active = new Map<SshConfigBlock, boolean>()
    for (const block of blocks) {
      let own: boolean
      const c = block.condition
      if (c.kind === 'always') own = true
      else if (c.kind === 'host') own = matchPatternList(c.patterns, hostForHostLines, { caseSensitive: true })
      else {
        if (c.criteria.some((x) => x.attribute === 'final' && !x.negate)) wantFinal = true
        try {
          own = await evaluateMatch(c.criteria, {
            tokens: currentTokens(),
            finalPass,
            runExec: options.runExec ?? ((cmd) => runExec(cmd)),
            localAddresses: options.localAddresses ?? localAddresses,
          })
        } catch (error) {
          throw new SshConfigError(`${block.source}: ${(error as Error).message}`, { cause: error })
        }
      }
      const on = own && (block.parent ? active.get(block.parent) === true : true)
      active.set(block, on)
      if (on) for (const line of block.lines) apply(line)
    }
  }

  await pass(host)
  // ssh re-reads the config for `Match final`, with the host name as HostName made it.
  if (wantFinal) {
    finalPass = true
    await pass(currentTokens().host)
  }

  const result: SshConfigHost = { identityFiles: [] }
  const hostName = first.get('hostname')?.value
  if (hostName) result.hostName = expandHostName(hostName, host)
  const user = first.get('user')?.value
  if (user) result.user = user
  const port = first.get('port')?.value
  if (port && /^\d+$/.test(port)) result.port = Number(port)
  const jump = first.get('proxyjump')?.value
  const tokens: TokenValues = { ...currentTokens(), host: result.hostName ?? host.toLowerCase(), ...(jump && jump.toLowerCase() !== 'none' ? { proxyJump: jump } : {}) }
  const expandFile = (line: SshConfigLine, value: string) => {
    try {
      return expandTokens(expandTilde(value, local.home), tokens, { env: true })
    } catch (error) {
      if (error instanceof TokenError) throw new SshConfigError(`${line.source}: ${error.message}`)
      throw error
    }
  }
  result.identityFiles = identityLines.filter((l) => l.value.toLowerCase() !== 'none').map((l) => expandFile(l, l.value))
  if (jump && jump.toLowerCase() !== 'none') result.proxyJump = jump
  const proxyCommand = first.get('proxycommand')
  if (proxyCommand && proxyCommand.value.toLowerCase() !== 'none') {
    try {
      result.proxyCommand = expandTokens(proxyCommand.value, tokens, { quote, only: '%hnpr' })
    } catch (error) {
      throw new SshConfigError(`${proxyCommand.source}: ${(error as Error).message}`)
    }
  }
  const khf = first.get('userknownhostsfile')
  if (khf && khf.args[0]?.toLowerCase() !== 'none') {
    result.userKnownHostsFiles = khf.args.map((f) => expandFile(khf, f))
    result.knownHostsSource = khf.source
  }
  const gkhf = first.get('globalknownhostsfile')
  // ssh (9.2) expands neither tokens nor ~ in GlobalKnownHostsFile.
  if (gkhf) result.globalKnownHostsFiles = gkhf.args[0]?.toLowerCase() === 'none' ? [] : gkhf.args
  const strict = first.get('stricthostkeychecking')?.value.toLowerCase()
  if (strict === 'yes' || strict === 'ask' || strict === 'accept-new') result.strictHostKeyChecking = strict
  else if (strict === 'no' || strict === 'off') result.strictHostKeyChecking = 'no'
  const only = first.get('identitiesonly')?.value.toLowerCase()
  if (only) result.identitiesOnly = only === 'yes' || only === 'true'
  const ct = first.get('connecttimeout')?.value
  if (ct && /^\d+$/.test(ct)) result.connectTimeoutMs = Number(ct) * 1000
  return result
}

// HostName takes %h (the name given) and %%; ssh then lowercases the result.
function expandHostName(value: string, host: string): string {
  return value.replace(/%([%h])/g, (_, t: string) => (t === '%' ? '%' : host)).toLowerCase()
}
