// The real Debian tools gpufleet's parsers and the simulator's emulations are checked against:
// dracut + lsinitrd (dracut-core), grub-editenv (grub-common) and grub-reboot/grub-set-default
// (grub2-common), modprobe (kmod), virsh + virt-xml-validate (libvirt-clients), lspci (pciutils).
// .ci/run installs them; the live tests (test/real/*) and the capture script
// (test/fixtures/real/capture.ts, `npm run fixtures:capture`) both build their input here.
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface Ran {
  code: number | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  input?: string
  cwd?: string
}

// Runs a program (no shell) and returns its output; never rejects on a non-zero exit. Asynchronous
// so a test worker's event loop keeps running while dracut takes its seconds.
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
  })
}

// Like run(), but a non-zero exit is an error that shows the tool's stderr.
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts)
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

// A shell script run by sh (dash), as the runner runs gpufleet's steps and fact commands.
export function sh(script: string, opts: RunOptions = {}): Promise<Ran> {
  return run('sh', ['-c', script], opts)
}

// The installed Debian package version (what a fixture records as its source).
export async function debVersion(pkg: string): Promise<string> {
  return (await runOk('dpkg-query', ['-W', '-f', '${Version}', pkg])).trim()
}

// The kernel version of the stub module tree.
export const STUB_KVER = '6.1.0-gpufleet-stub'

// The modules of the stub tree: nouveau under drivers/gpu/drm (so dracut's drm module picks it up
// the way it does on a real host: it takes drm drivers that use drm_dev_register) with a PCI
// modalias for NVIDIA display controllers (what udev's `modprobe -b <modalias>` resolves), vfio-pci.
const STUB_MODULES = [
  { name: 'nouveau', path: 'kernel/drivers/gpu/drm/nouveau/nouveau.ko', uses: ['drm_dev_register'], alias: 'pci:v000010DEd*sv*sd*bc03sc*i*' },
  { name: 'vfio_pci', path: 'kernel/drivers/vfio/pci/vfio-pci.ko', uses: [] as string[], alias: 'vfio_pci:v*d*sv*sd*bc*sc*i*' },
]

// The modalias of a V100 (10de:1db1, class 0302) as the kernel reports it to udev.
export const V100_MODALIAS = 'pci:v000010DEd00001DB1sv000010DEsd00001212bc03sc02i00'

// A fake <root>/lib/modules/<kver>: relocatable ELF objects with the sections kmod and dracut read
// (.modinfo, __versions, .gnu.linkonce.this_module), compiled by cc, indexed by the real depmod.
// Returns the module directory (dracut --kmoddir, modprobe -d <root> -S <kver>).
export async function stubKernelTree(root: string, kver = STUB_KVER): Promise<string> {
  const dir = join(root, 'lib/modules', kver)
  for (const m of STUB_MODULES) {
    const file = join(dir, m.path)
    mkdirSync(join(file, '..'), { recursive: true })
    const versions = m.uses.map((s) => `{ 0x1, "${s}" }`).join(', ')
    const source = [
      'struct modversion_info { unsigned long crc; char name[64 - sizeof(unsigned long)]; };',
      versions ? `__attribute__((section("__versions"), used)) static const struct modversion_info v[] = { ${versions} };` : '',
      `__attribute__((section(".modinfo"), used)) static const char info[] = "license=GPL\\0alias=${m.alias}\\0name=${m.name}\\0vermagic=${kver} SMP mod_unload ";`,
      '__attribute__((section(".gnu.linkonce.this_module"), used)) static char this_module[64];',
      '',
    ].join('\n')
    await runOk('cc', ['-c', '-x', 'c', '-o', file, '-'], { input: source })
  }
  for (const f of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) writeFileSync(join(dir, f), '')
  await runOk('depmod', ['-b', root, kver], { env: { ...process.env, PATH: pathWith() } })
  return dir
}

// A bin dir whose `dracut` runs the real /usr/bin/dracut on the stub tree, in seconds: generic
// (not host-only) image, only the base and drm dracut modules, no compression, and the config
// from `confdir` instead of /etc/dracut.conf.d. Every argument the caller gives is passed on as is.
export function dracutWrapper(dir: string, kmoddir: string, confdir: string): string {
  const bin = join(dir, 'bin')
  mkdirSync(bin, { recursive: true })
  mkdirSync(confdir, { recursive: true })
  const tmp = join(dir, 'dracut-tmp')
  mkdirSync(tmp, { recursive: true })
  const q = (s: string) => `'${s.replace(/'/g, `'"'"'`)}'`
  writeFileSync(join(bin, 'dracut'), `#!/bin/sh\nexec /usr/bin/dracut --no-hostonly --kmoddir ${q(kmoddir)} -m base --add drm --no-compress --no-early-microcode --nostrip --nohardlink --conf /dev/null --confdir ${q(confdir)} --tmpdir ${q(tmp)} "$@"\n`)
  chmodSync(join(bin, 'dracut'), 0o755)
  return bin
}

// PATH with `bin` first and the sbin directories root's tools live in.
export function pathWith(bin?: string): string {
  return [...(bin ? [bin] : []), process.env.PATH ?? '', '/usr/sbin', '/sbin'].join(':')
}
