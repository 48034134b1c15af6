import { shellWords } from './shell-words.js'

// What gpufleet takes from an OpenSSH command line (ansible_ssh_common_args and friends).
// Like ssh itself, the first value given for an option wins.
export interface SshArgs {
  proxyJump?: string // 'none' when explicitly disabled
  knownHostsFile?: string
  strictHostKeyChecking?: string
  port?: number
  user?: string
  identityFiles: string[]
  ignored: string[] // options that do not matter to gpufleet (ControlPersist, ...), for display
}

// Thrown for arguments gpufleet cannot honour; the caller adds the var's file:line.
export class SshArgsError extends Error {}

// ssh flags that take a value, which we skip (they do not change where or how we connect).
const FLAGS_WITH_VALUE = new Set('bBcDEeILmOQRSwW'.split(''))

// Parse OpenSSH arguments into `into`, keeping values already there (first wins).
export function parseSshArgs(text: string, into: SshArgs = { identityFiles: [], ignored: [] }): SshArgs {
  let words: string[]
  try {
    words = shellWords(text)
  } catch (error) {
    throw new SshArgsError(`cannot split '${text}': ${(error as Error).message}`)
  }
  const rest = parseWords(words, into)
  if (rest.length > 0) throw new SshArgsError(`unexpected argument '${rest[0]}' (only ssh options belong here)`)
  return into
}

// Consume options from `words`, returning the non-option words (a destination, a command).
function parseWords(words: string[], into: SshArgs): string[] {
  const rest: string[] = []
  for (let i = 0; i < words.length; i++) {
    const word = words[i]
    if (!word.startsWith('-') || word === '-') {
      rest.push(word)
      continue
    }
    const flag = word[1]
    // `-oFoo=bar` and `-o Foo=bar`, `-p22` and `-p 22`
    const takeValue = (): string => {
      if (word.length > 2) return word.slice(2)
      const next = words[++i]
      if (next === undefined) throw new SshArgsError(`option ${word} needs a value`)
      return next
    }
    if (flag === 'o') setOption(takeValue(), into)
    else if (flag === 'J') setOption(`ProxyJump=${takeValue()}`, into)
    else if (flag === 'p') setOption(`Port=${takeValue()}`, into)
    else if (flag === 'l') setOption(`User=${takeValue()}`, into)
    else if (flag === 'i') into.identityFiles.push(takeValue())
    else if (flag === 'F') throw new SshArgsError(`-F (another ssh config file) is not supported in inventory args; use gpufleet's ssh config option`)
    else if (FLAGS_WITH_VALUE.has(flag)) into.ignored.push(`${word} ${word.length > 2 ? '' : takeValue()}`.trim())
    else into.ignored.push(word) // -q, -C, -A, -T, -4 ...: boolean flags
  }
  return rest
}

function setOption(option: string, into: SshArgs): void {
  const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(option)
  if (!m) throw new SshArgsError(`malformed -o option '${option}' (expected Key=Value)`)
  const key = m[1].toLowerCase()
  const value = m[2].trim().replace(/^"(.*)"$/, '$1')
  switch (key) {
    case 'proxyjump':
      into.proxyJump ??= value
      break
    case 'proxycommand':
      into.proxyJump ??= proxyCommandToJump(value)
      break
    case 'userknownhostsfile':
      // ssh accepts several files separated by spaces; the first is where keys are checked first.
      into.knownHostsFile ??= shellWords(value)[0]
      break
    case 'stricthostkeychecking':
      into.strictHostKeyChecking ??= value
      break
    case 'port': {
      const port = /^\d+$/.test(value) ? Number(value) : NaN
      if (!(port >= 1 && port <= 65535)) throw new SshArgsError(`Port '${value}' is not a port number`)
      into.port ??= port
      break
    }
    case 'user':
      into.user ??= value
      break
    case 'identityfile':
      into.identityFiles.push(value)
      break
    default:
      into.ignored.push(`-o ${m[1]}=${value}`)
  }
}

// The classic Ansible bastion recipe, `ProxyCommand="ssh -W %h:%p -q user@bastion"`, is a
// ProxyJump in disguise; any other ProxyCommand cannot be honoured over ssh2.
function proxyCommandToJump(command: string): string {
  if (command.toLowerCase() === 'none') return 'none'
  const words = shellWords(command)
  const unsupported = new SshArgsError(`ProxyCommand '${command}' is not supported; use ProxyJump (-J user@bastion:port) instead`)
  if (words.length === 0 || !/(^|\/)ssh$/.test(words[0])) throw unsupported
  const inner: SshArgs = { identityFiles: [], ignored: [] }
  const args = words.slice(1)
  const w = args.findIndex((a) => a === '-W' || a.startsWith('-W'))
  if (w < 0) throw unsupported
  const forward = args[w] === '-W' ? args[w + 1] : args[w].slice(2)
  if (forward !== '%h:%p' && forward !== '[%h]:%p') throw unsupported
  args.splice(w, args[w] === '-W' ? 2 : 1)
  const rest = parseWords(args, inner)
  if (rest.length !== 1) throw unsupported
  let dest = rest[0]
  if (inner.user && !dest.includes('@')) dest = `${inner.user}@${dest}`
  if (inner.port && !/:\d+$/.test(dest)) dest = `${dest}:${inner.port}`
  return inner.proxyJump && inner.proxyJump !== 'none' ? `${inner.proxyJump},${dest}` : dest
}
