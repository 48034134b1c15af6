// Benchmark (not a test): loading an inventory of N hosts, each with a !vault value in its
// host_vars (the costly case; a vaulted become password in group_vars/all is one value).
// Every value costs one PBKDF2-SHA256 derivation (10000 iterations), as in Ansible.
//   npx vite-node bench/vault-load.ts [hosts=200]
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadInventory } from '../src/inventory/load.js'

const hosts = Number(process.argv[2] ?? 200)
// ansible-vault encrypt_string of 'hello vault' with password 'pw-default' (test/fixtures/vault).
const fixture = await readFile(join(import.meta.dirname, '../test/fixtures/vault/values.yaml'), 'utf8')
const block = /^a: !vault \|\n((?: {10}.*\n)+)/m.exec(fixture)![1]
const dir = await mkdtemp(join(tmpdir(), 'gpufleet-bench-vault-'))
try {
  await mkdir(join(dir, 'host_vars'))
  await writeFile(join(dir, 'pw.txt'), 'pw-default\n')
  const names = Array.from({ length: hosts }, (_, i) => `p9-${String(i + 1).padStart(4, '0')}`)
  await writeFile(join(dir, 'hosts.yaml'), `all:\n  hosts:\n${names.map((n) => `    ${n}:\n`).join('')}`)
  for (const name of names) await writeFile(join(dir, 'host_vars', `${name}.yml`), `site_token: !vault |\n${block}`)
  const started = performance.now()
  const inventory = await loadInventory(join(dir, 'hosts.yaml'), { vault: { passwordFiles: [join(dir, 'pw.txt')] }, env: {} })
  const ms = performance.now() - started
  console.log(`${inventory.hosts.length} hosts, ${hosts} vault values: loaded in ${Math.round(ms)} ms (${(ms / hosts).toFixed(1)} ms per value)`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
