// `Match` criteria of ssh_config, evaluated as OpenSSH 9.2's match_cfg_line does: every criterion
// must hold (a leading `!` negates one); `host`/`originalhost` compare case-insensitively,
// `user`/`localuser` case-sensitively, all with comma pattern lists; `exec` runs a local command
// through the user's shell (skipped once an earlier criterion failed); `canonical`/`final` hold
// only in the final pass; `localnetwork` tests this machine's interface addresses.
import { spawn } from 'node:child_process'
import { BlockList, isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import { quote } from '../shell.js'
import { matchPatternList } from './ssh-patterns.js'
import { expandTokens, type TokenValues } from './ssh-tokens.js'

export type MatchAttribute = 'all' | 'canonical' | 'final' | 'exec' | 'host' | 'originalhost' | 'user' | 'localuser' | 'localnetwork'

export interface MatchCriterion {
  attribute: MatchAttribute
  negate: boolean
  arg?: string // every attribute but all/canonical/final
}

const NO_ARG = new Set<MatchAttribute>(['all', 'canonical', 'final'])
const WITH_ARG = new Set<MatchAttribute>(['exec', 'host', 'originalhost', 'user', 'localuser', 'localnetwork'])

// Parses the words after `Match`; returns an error text for what ssh would reject.
export function parseMatch(words: readonly string[]): MatchCriterion[] | string {
  const out: MatchCriterion[] = []
  for (let i = 0; i < words.length; i++) {
    let word = words[i]!
    if (word.startsWith('#')) break
    const negate = word.startsWith('!')
    if (negate) word = word.slice(1)
    const attribute = word.toLowerCase() as MatchAttribute
    if (NO_ARG.has(attribute)) {
      // ssh 9.2 accepts `all` anywhere except before another criterion.
      if (attribute === 'all' && i + 1 < words.length && !words[i + 1]!.startsWith('#')) {
        return "'all' cannot be combined with other Match attributes"
      }
      out.push({ attribute, negate })
    } else if (WITH_ARG.has(attribute)) {
      const arg = words[++i]
      if (arg === undefined || arg === '') return `Match ${attribute} needs an argument`
      out.push({ attribute, negate, arg })
    } else {
      return `unsupported Match attribute ${JSON.stringify(word)}`
    }
  }
  if (out.length === 0) return 'Match needs at least one criterion'
  return out
}

// What the criteria see: the state of the options read so far.
export interface MatchState {
  tokens: TokenValues // host = HostName so far (expanded) or the name given; remoteUser = User so far or the local user
  finalPass: boolean
  runExec: (command: string) => Promise<boolean>
  localAddresses: () => string[]
}

export async function evaluateMatch(criteria: readonly MatchCriterion[], state: MatchState): Promise<boolean> {
  let result = true
  for (const c of criteria) {
    let r: boolean
    switch (c.attribute) {
      case 'all':
        r = true
        break
      case 'canonical':
      case 'final':
        r = state.finalPass
        break
      case 'host':
        r = matchPatternList(c.arg!.split(','), state.tokens.host)
        break
      case 'originalhost':
        r = matchPatternList(c.arg!.split(','), state.tokens.originalHost)
        break
      case 'user':
        r = matchPatternList(c.arg!.split(','), state.tokens.remoteUser, { caseSensitive: true })
        break
      case 'localuser':
        r = matchPatternList(c.arg!.split(','), state.tokens.local.user, { caseSensitive: true })
        break
      case 'localnetwork':
        r = inNetworks(c.arg!, state.localAddresses())
        break
      case 'exec':
        // ssh does not run the command once an earlier criterion failed.
        if (!result) continue
        r = await state.runExec(expandTokens(c.arg!, state.tokens, { quote }))
        break
    }
    if (r === c.negate) result = false
  }
  return result
}

// True when one of `addresses` is inside one of the comma-separated CIDR blocks.
export function inNetworks(cidrs: string, addresses: readonly string[]): boolean {
  const list = new BlockList()
  for (const cidr of cidrs.split(',')) {
    const [net, bits] = cidr.split('/')
    const family = isIP(net ?? '')
    if (!family) continue
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits)
    list.addSubnet(net!, prefix, family === 4 ? 'ipv4' : 'ipv6')
  }
  return addresses.some((a) => isIP(a) !== 0 && list.check(a, isIP(a) === 4 ? 'ipv4' : 'ipv6'))
}

export function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address.replace(/%.*$/, '')))
}

// Runs a Match exec command as ssh does: `$SHELL -c command` (else /bin/sh), stdin and stdout on
// /dev/null; true when it exits 0. Its stderr is dropped: it would tear a live terminal view.
export function runExec(command: string, timeoutMs = 60_000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const shell = process.env.SHELL || '/bin/sh'
    const child = spawn(shell, ['-c', command], { stdio: 'ignore', timeout: timeoutMs })
    child.once('error', (error) => reject(new Error(`Match exec ${JSON.stringify(command)}: ${error.message}`)))
    child.once('exit', (code, signal) => {
      if (signal === 'SIGTERM' && code === null) reject(new Error(`Match exec ${JSON.stringify(command)} did not finish within ${timeoutMs / 1000} s`))
      else resolve(code === 0)
    })
  })
}
