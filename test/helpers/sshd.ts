// A real OpenSSH sshd on 127.0.0.1 for interop tests: its own host key, a non-root login user with
// passwordless sudo, a second user whose sudo needs a password, and one or many listening ports.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, chmodSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { InventoryHost } from '../../src/inventory/types.js'

const run = promisify(execFile)

// The NOPASSWD sudo user every suite logs in as.
export const TEST_USER = 'gpufleet-test'
// A user whose sudo asks for a password (the --ask-become-pass tests).
export const PW_USER = 'gpufleet-pw'
export const PW_USER_PASSWORD = 'S3cret-sudo pass;$(x)'

export interface StartSshdOptions {
  ports?: number // listening ports (endpoints) on 127.0.0.1; default 1
  hostKeyType?: 'ed25519' | 'rsa' | 'ecdsa'
  // A host key made beforehand (e.g. to sign a HostCertificate for it); default: a fresh one.
  hostKey?: { file: string; publicKey: string }
  extraConfig?: string[] // more sshd_config lines
}

export interface TestSshd {
  host: string // 127.0.0.1
  port: number // the first port
  ports: number[]
  user: string // TEST_USER
  dir: string
  clientKeyFile: string // an unencrypted ed25519 key authorized for both users
  knownHostsFile: string // `[127.0.0.1]:port <key>` for every port
  hostKeyPublic: string // "ssh-ed25519 AAAA..."
  logFile: string // the first listener's log (see log() for all)
  pid: number // the first listener's pid
  // Authorize another public key ("type base64 comment") for a user.
  authorize(publicKey: string, user?: string): Promise<void>
  // The sshd log so far (LogLevel VERBOSE).
  log(): string
  // Connections accepted per listening port, and exec sessions started per listening port.
  counts(): { connections: Map<number, number>; execs: Map<number, number> }
  // SIGKILL every per-connection sshd process: clients see the connection drop.
  dropConnections(): number
  // Sends a signal to every per-connection sshd process (SIGSTOP: a host that hangs silently).
  signalConnections(signal: NodeJS.Signals): number
  stop(): Promise<void>
}

// Reserves `count` distinct free loopback ports (held open together so none repeats).
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const s = createServer()
          s.once('error', reject)
          s.listen(0, '127.0.0.1', () => resolve(s))
        }),
    ),
  )
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  return ports
}

// Generates a key pair with ssh-keygen; returns the private key path and the public key line.
export async function generateKey(file: string, type: 'ed25519' | 'rsa' | 'ecdsa', passphrase = '', comment = 'gpufleet-test'): Promise<{ file: string; publicKey: string }> {
  const args = ['-q', '-t', type, '-N', passphrase, '-C', comment, '-f', file]
  if (type === 'rsa') args.push('-b', '2048')
  await run('ssh-keygen', args)
  return { file, publicKey: (await readFile(`${file}.pub`, 'utf8')).trim() }
}

let usersReady: Promise<void> | undefined

// Creates the test users once per machine (idempotent, safe to race between test workers).
function ensureUsers(): Promise<void> {
  usersReady ??= createUsers().catch((error: unknown) => {
    usersReady = undefined
    throw error
  })
  return usersReady
}

async function createUsers(): Promise<void> {
  for (const user of [TEST_USER, PW_USER]) {
    for (let attempt = 0; ; attempt++) {
      try {
        await run('id', [user])
        break
      } catch {
        try {
          await run('useradd', ['-m', '-s', '/bin/bash', user])
        } catch (error) {
          // Another worker holds /etc/passwd's lock or created the user first: look again.
          if (attempt > 20) throw error
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 200))
        }
      }
    }
    const home = `/home/${user}`
    // Login shells must start instantly; an unlocked account is needed with UsePAM no.
    for (const f of ['.bashrc', '.profile', '.bash_logout']) writeFileSync(join(home, f), '')
  }
  // A random password only unlocks TEST_USER (sshd refuses locked accounts); PW_USER's is known.
  await setPassword(TEST_USER, `unused-${Math.random().toString(36).slice(2)}`)
  await setPassword(PW_USER, PW_USER_PASSWORD)
  const sudoers = `# gpufleet interop tests\n${TEST_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n${PW_USER} ALL=(ALL:ALL) ALL\nDefaults:${PW_USER} timestamp_timeout=0, !lecture, passwd_tries=1\n`
  const path = '/etc/sudoers.d/gpufleet-test'
  if (!existsSync(path) || readFileSync(path, 'utf8') !== sudoers) {
    const tmp = `${path}.${process.pid}.tmp` // sudo ignores names with a dot; workers may race here
    writeFileSync(tmp, sudoers, { mode: 0o440 })
    await run('visudo', ['-cf', tmp])
    await run('mv', ['-f', tmp, path])
  }
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
}

async function setPassword(user: string, password: string): Promise<void> {
  // chpasswd fails while another test worker holds /etc/shadow's lock: try again.
  for (let attempt = 0; ; attempt++) {
    try {
      return await chpasswd(user, password)
    } catch (error) {
      if (attempt > 20) throw error
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200))
    }
  }
}

function chpasswd(user: string, password: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const p = spawn('chpasswd', [], { stdio: ['pipe', 'ignore', 'pipe'] })
    let err = ''
    p.stderr.on('data', (d) => (err += d))
    p.on('error', reject)
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd: ${err}`))))
    p.stdin.end(`${user}:${password}\n`)
  })
}

// Starts a real OpenSSH sshd; resolves once every port is listening.
export async function startSshd(options: StartSshdOptions = {}): Promise<TestSshd> {
  await ensureUsers()
  const dir = await mkdtemp(join(tmpdir(), 'gpufleet-sshd-'))
  chmodSync(dir, 0o755)
  const hostKeyType = options.hostKeyType ?? 'ed25519'
  const hostKey = options.hostKey ?? (await generateKey(join(dir, `host_${hostKeyType}`), hostKeyType, '', 'gpufleet-test-host'))
  const client = await generateKey(join(dir, 'id_ed25519'), 'ed25519')
  const authDir = join(dir, 'authorized_keys')
  mkdirSync(authDir, { mode: 0o755 })
  for (const user of [TEST_USER, PW_USER]) writeFileSync(join(authDir, user), `${client.publicKey}\n`, { mode: 0o644 })
  // sshd_config: the first value of a keyword wins, so the caller's lines go first.
  const common = [
    ...(options.extraConfig ?? []),
    `HostKey ${hostKey.file}`,
    `AuthorizedKeysFile ${authDir}/%u`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin no',
    `AllowUsers ${TEST_USER} ${PW_USER}`,
    'LogLevel VERBOSE',
    'PrintMotd no',
    'UseDNS no',
    'X11Forwarding no',
    'AllowTcpForwarding yes',
    'Subsystem sftp internal-sftp',
  ]
  // OpenSSH listens on at most 16 sockets per process (MAX_LISTEN_SOCKS): one sshd per 16 ports,
  // all sharing the host key and users, so together they look like one server with many ports.
  const listeners: Array<{ child: ChildProcess; exited: Promise<number | null>; logFile: string; ports: number[] }> = []
  const readLogs = () => listeners.map((l) => (existsSync(l.logFile) ? readFileSync(l.logFile, 'utf8') : '')).join('')
  const ports: number[] = []
  try {
    for (let i = 0, n = 0; i < (options.ports ?? 1); i += 16, n++) {
      const size = Math.min(16, (options.ports ?? 1) - i)
      const logFile = join(dir, `sshd-${n}.log`)
      const configFile = join(dir, `sshd_config-${n}`)
      // A port picked free can be taken by another test worker before sshd binds it: pick again.
      for (let attempt = 1; ; attempt++) {
        const chunk = await freePorts(size)
        await writeFile(configFile, [...chunk.map((p) => `ListenAddress 127.0.0.1:${p}`), `PidFile ${join(dir, `sshd-${n}.pid`)}`, ...common].join('\n') + '\n')
        await rm(logFile, { force: true })
        const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-E', logFile, '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] })
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
        let early = ''
        child.stderr?.on('data', (d) => (early += d))
        const deadline = Date.now() + 15_000
        let state: 'up' | 'port-taken'
        for (;;) {
          const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''
          if (chunk.every((p) => log.includes(`Server listening on 127.0.0.1 port ${p}.`))) {
            state = 'up'
            break
          }
          if (log.includes('Address already in use') && attempt < 5) {
            state = 'port-taken'
            break
          }
          if (child.exitCode !== null || Date.now() > deadline) {
            child.kill('SIGKILL')
            throw new Error(`sshd did not start (exit ${child.exitCode}): ${early}\n${log}`)
          }
          await new Promise((r) => setTimeout(r, 20))
        }
        if (state === 'up') {
          listeners.push({ child, exited, logFile, ports: chunk })
          ports.push(...chunk)
          break
        }
        child.kill('SIGKILL')
        await exited
      }
    }
  } catch (error) {
    for (const l of listeners) l.child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  const logFile = listeners[0]!.logFile
  const readLog = readLogs
  const knownHostsFile = join(dir, 'known_hosts')
  const hostKeyPublic = hostKey.publicKey.split(' ').slice(0, 2).join(' ')
  await writeFile(knownHostsFile, ports.map((p) => `[127.0.0.1]:${p} ${hostKeyPublic}\n`).join(''), { mode: 0o600 })
  const pids = listeners.map((l) => l.child.pid!)
  const pid = pids[0]!

  const counts = () => {
    const connections = new Map<number, number>()
    const execs = new Map<number, number>()
    const portOfClient = new Map<string, number>()
    for (const line of readLog().split('\n')) {
      // "Connection from 127.0.0.1 port 51234 on 127.0.0.1 port 2222 rdomain """
      const c = /Connection from \S+ port (\d+) on \S+ port (\d+)/.exec(line)
      if (c) {
        const port = Number(c[2])
        portOfClient.set(c[1]!, port)
        connections.set(port, (connections.get(port) ?? 0) + 1)
        continue
      }
      // "Starting session: command for gpufleet-test from 127.0.0.1 port 51234 id 0"
      const s = /Starting session: command for \S+ from \S+ port (\d+)/.exec(line)
      if (s) {
        const port = portOfClient.get(s[1]!)
        if (port !== undefined) execs.set(port, (execs.get(port) ?? 0) + 1)
      }
    }
    return { connections, execs }
  }

  const sshd: TestSshd = {
    host: '127.0.0.1',
    port: ports[0]!,
    ports,
    user: TEST_USER,
    dir,
    clientKeyFile: client.file,
    knownHostsFile,
    hostKeyPublic,
    logFile,
    pid,
    async authorize(publicKey, user = TEST_USER) {
      await writeFile(join(authDir, user), `${publicKey.trim()}\n`, { flag: 'a' })
    },
    log: readLog,
    counts,
    dropConnections() {
      return sshd.signalConnections('SIGKILL')
    },
    signalConnections(signal) {
      // Every descendant of the listener: the [priv] monitor, the user@notty child and its shell.
      const children = new Map<number, number[]>()
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue
        try {
          const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
          children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
        } catch {
          // The process exited while we looked.
        }
      }
      const victims: number[] = []
      const walk = (p: number) => {
        for (const c of children.get(p) ?? []) {
          victims.push(c)
          walk(c)
        }
      }
      for (const p of pids) walk(p)
      for (const v of victims) {
        try {
          process.kill(v, signal)
        } catch {
          // Already gone.
        }
      }
      return victims.length
    },
    async stop() {
      // Per-connection children survive the listener; end ours first so no session outlives the suite.
      sshd.signalConnections('SIGCONT')
      sshd.dropConnections()
      for (const l of listeners) {
        if (l.child.exitCode !== null) continue
        l.child.kill('SIGTERM')
        const timer = setTimeout(() => l.child.kill('SIGKILL'), 3000)
        await l.exited
        clearTimeout(timer)
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
  return sshd
}

// An InventoryHost for one endpoint of a test sshd, logging in with its client key.
export function sshdHost(sshd: TestSshd, overrides: Partial<InventoryHost> & { port?: number; user?: string; identityFiles?: string[] } = {}): InventoryHost {
  const { port, user, identityFiles, ...rest } = overrides
  return {
    name: `sshd-${port ?? sshd.port}`,
    groups: ['all'],
    vars: {},
    connection: 'ssh',
    ssh: {
      hostname: sshd.host,
      hostnameFromInventory: true,
      port: port ?? sshd.port,
      user: user ?? sshd.user,
      identityFiles: identityFiles ?? [sshd.clientKeyFile],
    },
    become: false,
    becomeUser: 'root',
    assignments: [],
    ...rest,
  }
}
