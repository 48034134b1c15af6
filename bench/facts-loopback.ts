// Benchmark (not a test): `gpufleet facts` against N real OpenSSH endpoints on 127.0.0.1.
// Prints wall time and, from sshd's own VERBOSE log, connections and execs per host.
//   npx vite-node bench/facts-loopback.ts [endpoints=100] [forks=50]
// Needs root (it creates the test users, as the interop tests do) and openssh-server.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { factsCommand } from '../src/commands/facts.js'
import { startSshd } from '../test/helpers/sshd.js'

const endpoints = Number(process.argv[2] ?? 100)
const forks = Number(process.argv[3] ?? 50)

// sshd's default MaxStartups (10:30:100) stays: the connector's handshake cap is what keeps us under it.
const sshd = await startSshd({ ports: endpoints })
const dir = await mkdtemp(join(tmpdir(), 'gpufleet-bench-'))
try {
  const inventory = join(dir, 'hosts.yaml')
  const hosts = sshd.ports.map((port, i) => `    p9-${String(i + 1).padStart(3, '0')}:\n      ansible_port: ${port}`).join('\n')
  await writeFile(inventory, `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_user: ${sshd.user}\n    ansible_ssh_private_key_file: ${sshd.clientKeyFile}\n    ansible_become: true\n  hosts:\n${hosts}\n`)
  const started = performance.now()
  const { exitCode, results } = await factsCommand({ inventory, knownHosts: sshd.knownHostsFile, forks }, { connectorOptions: { agentSocket: null } })
  const wallMs = performance.now() - started
  const { connections, execs } = sshd.counts()
  const perHost = (m: Map<number, number>) => {
    const values = sshd.ports.map((p) => m.get(p) ?? 0)
    return { min: Math.min(...values), max: Math.max(...values), total: values.reduce((a, b) => a + b, 0) }
  }
  const durations = results.map((r) => r.durationMs).sort((a, b) => a - b)
  console.log(
    JSON.stringify(
      {
        endpoints,
        forks,
        wallMs: Math.round(wallMs),
        ok: results.filter((r) => r.ok).length,
        failed: results.filter((r) => !r.ok).map((r) => (r.ok ? '' : `${r.host}: ${r.reason}: ${r.message}`)),
        exitCode,
        connectionsPerHost: perHost(connections),
        execsPerHost: perHost(execs),
        hostMs: { p50: durations[Math.floor(durations.length / 2)], p95: durations[Math.floor(durations.length * 0.95)], max: durations[durations.length - 1] },
      },
      null,
      2,
    ),
  )
  if (exitCode !== 0) {
    // sshd's view of what went wrong, for the failed hosts.
    console.log(
      sshd
        .log()
        .split('\n')
        .filter((l) => /error|fatal|refused|Disconnect|Close session|signal/i.test(l))
        .slice(0, 40)
        .join('\n'),
    )
  }
} finally {
  await sshd.stop()
  await rm(dir, { recursive: true, force: true })
}
