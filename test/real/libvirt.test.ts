// Real libvirt (libvirt-clients) against the XML gpufleet writes: every hostdev XML a gpu.attach or
// gpu.detach plan's script writes (the script's own lines, run by sh) is put into the fixture's
// domain and checked by virt-xml-validate; the attached domains are then defined in libvirt's test
// driver (in-process, no daemon) and read back through libvirt.domains' real shell text: the
// parser sees the same hostdevs, and the scripts' post-attach grep finds them in libvirt's output.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { libvirtDomains } from '../../src/facts/libvirt-domains.js'
import { parseDomainXml } from '../../src/facts/parse-domain-xml.js'
import { splitSections } from '../../src/facts/sections.js'
import { sourcePattern } from '../../src/tasks/lib/hostdev-xml.js'
import { factStdout, planFixture, readTaskFixture } from '../helpers/plan-fixture.js'
import { pathWith, run, runOk, sh } from '../helpers/real-tools.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpufleet-real-libvirt-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// The hostdev XML files a hostdev script writes, and its domain: the script's lines up to its
// first virsh call, run by sh into a directory of ours.
async function writtenXml(script: string, out: string): Promise<{ domain: string; xml: string[]; phbs: string[] }> {
  mkdirSync(out, { recursive: true })
  const head = script.split('\n').slice(0, script.split('\n').indexOf('undo() {'))
  const lines = head.filter((l) => !l.startsWith('trap ')).map((l) => (l.startsWith('d=$(mktemp -d)') ? `d='${out}'` : l))
  const r = await sh([...lines, 'printf %s "$dom" > "$d/domain"'].join('\n'))
  expect(r.code, r.stderr).toBe(0)
  const files = readdirSync(out)
    .filter((f) => /^\d+\.xml$/.test(f))
    .sort((a, b) => parseInt(a) - parseInt(b))
  // PHB controllers (phb<index>.xml) go into the domain before the hostdevs that sit on them.
  const phbs = readdirSync(out)
    .filter((f) => /^phb\d+\.xml$/.test(f))
    .sort()
  return { domain: readFileSync(join(out, 'domain'), 'utf8'), xml: files.map((f) => readFileSync(join(out, f), 'utf8')), phbs: phbs.map((f) => readFileSync(join(out, f), 'utf8')) }
}

// Each domain's persistent XML as the fixture's libvirt.domains stdout gives it.
function fixtureDomains(stdout: string): Map<string, string> {
  const out = new Map<string, string>()
  let name = ''
  for (const s of splitSections(stdout)) {
    if (s.name === 'domain') name = s.arg
    else if (s.name === 'config') out.set(name, s.lines.join('\n'))
  }
  return out
}

const withDevices = (domainXml: string, devices: string[]) => domainXml.replace('</devices>', devices.map((d) => d.replace(/^/gm, '    ')).join('') + '  </devices>')

// Every fixture of the two tasks whose plan runs virsh (the others write no XML).
const cases = ['gpu.attach', 'gpu.detach'].flatMap((task) =>
  readdirSync(join(import.meta.dirname, '../tasks', task)).flatMap((f) => {
    const name = f.replace(/\.json$/, '')
    const fx = readTaskFixture(task, name)
    if (!fx.facts) return [] // an args-error fixture
    const plan = planFixture(task, fx)
    const scripts = plan.kind === 'change' ? plan.steps.flatMap((s) => (s.kind === 'run' && s.command.includes('virsh ') ? [s.command] : [])) : []
    return scripts.length ? [{ task, name, fx, scripts }] : []
  }),
)

test('the attach and detach fixtures with XML are all here', () => {
  expect(cases.filter((c) => c.task === 'gpu.attach').length).toBeGreaterThanOrEqual(6)
  expect(cases.filter((c) => c.task === 'gpu.detach').length).toBeGreaterThanOrEqual(2)
})

describe.each(cases)('$task $name', ({ task, name, fx, scripts }) => {
  test('every hostdev and PHB XML it writes passes virt-xml-validate inside its domain', async () => {
    const domains = fixtureDomains(factStdout(fx.facts.libvirt)!)
    // Each attach step adds to what the earlier steps of the plan attached to the same domain.
    const attachedSoFar = new Map<string, string>()
    let i = 0
    for (const script of scripts) {
      const { domain, xml, phbs } = await writtenXml(script, join(dir, task, name, String(i++)))
      expect(xml.length + phbs.length).toBeGreaterThan(0)
      const base = parseDomainXml(domains.get(domain)!)
      // A detach XML goes into the domain without the devices it names (they are there already).
      const body = task === 'gpu.detach' ? stripHostdevs(domains.get(domain)!) : (attachedSoFar.get(domain) ?? domains.get(domain)!)
      const file = join(dir, task, name, `${domain.replace(/[^A-Za-z0-9]/g, '_')}-${i}.xml`)
      const whole = withDevices(body, [...phbs, ...xml])
      writeFileSync(file, whole)
      if (task === 'gpu.attach') attachedSoFar.set(domain, whole)
      const r = await run('virt-xml-validate', [file, 'domain'])
      expect(r.code, `${r.stdout}${r.stderr}`).toBe(0)
      expect(r.stderr).toContain('validates')
      expect(base.name).toBe(domain)
    }
  })

  if (task !== 'gpu.attach') return
  test("the test driver's dumpxml of the attached domain gives the parser the same hostdevs, and the script's check finds them", async () => {
    const domains = fixtureDomains(factStdout(fx.facts.libvirt)!)
    const attached = new Map<string, string[]>()
    let i = 0
    for (const script of scripts) {
      const { domain, xml, phbs } = await writtenXml(script, join(dir, task, name, `rt${i++}`))
      attached.set(domain, [...(attached.get(domain) ?? []), ...phbs, ...xml])
    }
    // libvirt refuses a name with '/' (a hostile fixture's): such a domain is checked by
    // virt-xml-validate above only. The fixtures reuse one UUID: libvirt assigns its own.
    for (const d of [...domains.keys()].filter((d) => d.includes('/'))) {
      domains.delete(d)
      attached.delete(d)
    }
    const node = join(dir, task, name, 'node.xml')
    const defs = [...domains].map(([d, x]) => withDevices(x.replace(/\s*<uuid>[^<]*<\/uuid>/, ''), attached.get(d) ?? []))
    writeFileSync(node, `<node>\n${defs.join('\n')}\n</node>\n`)
    const bin = join(dir, task, name, 'bin')
    mkdirSync(bin, { recursive: true })
    writeFileSync(join(bin, 'virsh'), `#!/bin/sh\nexec /usr/bin/virsh -q -c 'test://${node}' "$@"\n`)
    chmodSync(join(bin, 'virsh'), 0o755)
    const env = { ...process.env, PATH: pathWith(bin) }
    const gathered = await sh(libvirtDomains.command, { env })
    expect(gathered.code, gathered.stderr).toBe(0)
    const fact = libvirtDomains.parse(gathered.stdout, 0)
    expect(fact.domains.map((d) => d.name).sort()).toEqual([...domains.keys()].sort())
    for (const [domain, xml] of attached) {
      const want = xml.flatMap((x) => parseDomainXml(`<domain>${x}</domain>`).hostdevs)
      const phbIndexes = xml.flatMap((x) => parseDomainXml(`<domain><devices>${x}</devices></domain>`).controllers ?? []).map((c) => c.index)
      const gotPhbs = (fact.domains.find((d) => d.name === domain)!.config.controllers ?? []).filter((c) => c.modelName === 'spapr-pci-host-bridge').map((c) => c.index)
      for (const p of phbIndexes) expect(gotPhbs, `PHB ${p} of ${domain} in libvirt's XML`).toContain(p)
      const got = fact.domains.find((d) => d.name === domain)!.config.hostdevs
      for (const w of want) {
        const h = got.find((g) => g.source === w.source)
        expect(h, `${w.source} in ${domain}`).toBeDefined()
        expect(h!.managed).toBe(true)
        if (w.guest) expect(h!.guest).toEqual(w.guest)
      }
      // The post-attach check the script runs on `virsh dumpxml --inactive | tr -d '\n'`.
      const flat = (await runOk('virsh', ['dumpxml', '--inactive', domain], { env })).replace(/\n/g, '')
      for (const w of want) {
        const g = await run('grep', ['-Eq', '--', sourcePattern(w.source)], { input: flat })
        expect(g.code, `${sourcePattern(w.source)} in libvirt's XML`).toBe(0)
      }
    }
  })
})

function stripHostdevs(xml: string): string {
  return xml.replace(/\s*<hostdev\b[\s\S]*?<\/hostdev>/g, '')
}
