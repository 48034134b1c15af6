// The mount-namespace keeper (sim-tools/libexec/simns.pl under `unshare -m`): every mount of the
// rack happens inside it, and each host is a chrooted process in it (see README.md "Host tree").
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import readline from 'node:readline'
import { simToolsDir } from './layers.js'

// A running keeper; send() batches commands and resolves when all were executed.
export class NamespaceKeeper {
  readonly pid: number
  private readonly child: ChildProcess
  private readonly waiters = new Map<string, (r: { pids: Map<string, number>; errors: string[] }) => void>()
  private pids = new Map<string, number>()
  private errors: string[] = []
  private seq = 0
  private exited: Promise<void>

  private constructor(child: ChildProcess) {
    this.child = child
    this.pid = child.pid!
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    const rl = readline.createInterface({ input: child.stdout! })
    rl.on('line', (line) => {
      const parts = line.split('\t')
      const [kind, a] = parts
      const b = parts[parts.length - 1]
      if (kind === 'pid') this.pids.set(a!, Number(b))
      else if (kind === 'err') this.errors.push(`${a}: ${b}`)
      else if (kind === 'ok') {
        const w = this.waiters.get(a ?? '')
        if (w) {
          this.waiters.delete(a ?? '')
          w({ pids: this.pids, errors: this.errors })
          this.pids = new Map()
          this.errors = []
        }
      }
    })
  }

  // Starts a keeper in a new private mount namespace.
  static start(): NamespaceKeeper {
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'perl', path.join(simToolsDir(), 'libexec', 'simns.pl')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    return new NamespaceKeeper(child)
  }

  // Runs commands (each an array of tab-free fields); resolves with new host pids and errors.
  run(commands: string[][]): Promise<{ pids: Map<string, number>; errors: string[] }> {
    const id = String(++this.seq)
    const p = new Promise<{ pids: Map<string, number>; errors: string[] }>((resolve, reject) => {
      this.waiters.set(id, resolve)
      this.exited.then(() => reject(new Error('sim namespace keeper exited')))
    })
    const text = commands.map((c) => c.join('\t')).join('\n') + (commands.length ? '\n' : '') + `sync\t${id}\n`
    this.child.stdin!.write(text)
    return p
  }

  // Ends the keeper: its hosts die with it and the namespace (with every mount) goes away.
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.stdin!.end()
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000)
    await this.exited
    clearTimeout(t)
  }
}
