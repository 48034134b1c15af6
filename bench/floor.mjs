// The floor: what any SSH tool must pay. One connection and one `true` per host, `forks` at a
// time, host keys checked against known_hosts. Plain JavaScript so the measurement carries no
// TypeScript loader.   node bench/floor.mjs INVENTORY.yaml KNOWN_HOSTS FORKS
import fs from 'node:fs'
import ssh2 from 'ssh2'
import YAML from 'yaml'
import pLimit from 'p-limit'

const [inventoryFile, knownHostsFile, forks] = process.argv.slice(2)
// The simulator's inventory names each host's GPU list once and aliases it (&a1 ... *a1): a large
// rack has more aliases than the yaml package's default limit of 100.
const inv = YAML.parse(fs.readFileSync(inventoryFile, 'utf8'), { maxAliasCount: -1 })
const key = fs.readFileSync(inv.all.vars.ansible_ssh_private_key_file)
const known = new Map(fs.readFileSync(knownHostsFile, 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([h, , k]) => [h, k]))
const hosts = Object.values(inv.all.children).flatMap((g) => Object.values(g.hosts))

function once(h) {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client()
    const expected = known.get(`[${h.ansible_host}]:${h.ansible_port}`)
    c.on('ready', () =>
      c.exec('true', (err, stream) => {
        if (err) return reject(err)
        stream.on('close', (code) => {
          c.end()
          code === 0 ? resolve() : reject(new Error(`exit ${code}`))
        })
        stream.resume()
      }),
    )
    c.on('error', reject)
    c.connect({ host: h.ansible_host, port: h.ansible_port, username: h.ansible_user, privateKey: key, hostVerifier: (k) => k.toString('base64') === expected })
  })
}

const limit = pLimit(Number(forks))
const results = await Promise.allSettled(hosts.map((h) => limit(() => once(h))))
const failed = results.filter((r) => r.status === 'rejected')
for (const f of failed.slice(0, 3)) console.error(String(f.reason))
console.log(JSON.stringify({ hosts: hosts.length, failed: failed.length }))
process.exitCode = failed.length ? 1 : 0
