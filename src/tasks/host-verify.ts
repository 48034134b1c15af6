import { z } from 'zod'
import { cpuInfo, type CpuInfo } from '../facts/cpu-info.js'
import { kernelCmdline, type CmdlineFact } from '../facts/kernel-cmdline.js'
import { kernelModules, type LoadedModule } from '../facts/kernel-modules.js'
import { kernelRelease } from '../facts/kernel-release.js'
import { iommuGroups, type IommuGroups } from '../facts/iommu-groups.js'
import { isNvidiaGpu, pciDevices, type PciDevice } from '../facts/pci-devices.js'
import { smtState, type SmtState } from '../facts/cpu-smt.js'
import { vfioStatus, type VfioStatus } from '../facts/vfio-status.js'
import { defineTask, noop, type PlanContext } from './define.js'
import { argsSatisfied, kernelArgSchema, spellingOf } from './lib/kernel-arg-schema.js'
import { moduleNameSchema } from './lib/module-name.js'
import { smtMatches } from './lib/pending-reboot.js'

// Read-only health check of a prepared host, with evidence per check. A failed check fails the host.
//
//   - host.verify: { smt: off }
export const hostVerifyArgs = z
  .object({
    kernelArgs: z.array(kernelArgSchema).default(['vfio-pci.disable_idle_d3=1']).describe('arguments that must be live in /proc/cmdline'),
    smt: z.union([z.enum(['off', 'on']), z.number().int().min(1).max(8)]).optional().describe('required live SMT state (unset: reported only)'),
    forbiddenModules: z.array(moduleNameSchema).default(['nouveau', 'nvidia']).describe('modules that must not be loaded (nvidia also matches nvidia_*)'),
    requireVfio: z.boolean().default(true).describe('vfio_pci and an IOMMU backend module must be available'),
  })
  .strict()
// The args plan() receives: validated, with defaults applied.
export type HostVerifyArgs = z.output<typeof hostVerifyArgs>

// The facts plan() reads, by key (gathered in the one fact exec).
export interface HostVerifyFacts extends Record<string, unknown> {
  cmdline: CmdlineFact
  release: string
  cpu: CpuInfo
  smt: SmtState
  modules: Record<string, LoadedModule>
  pci: PciDevice[]
  iommu: IommuGroups
  vfio: VfioStatus
}

// One verify check: pass/fail, a one-line detail, and any evidence fields.
export interface Check {
  ok: boolean
  detail: string
  warning?: boolean
  [key: string]: unknown
}

// Linux ≥ 5.13 removed the vfio-pci NVLink2 subdriver (and QEMU 8.2 its spapr side).
export function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release)
  if (!m) return false
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor)
}

// Tesla V100 SXM2 16GB and 32GB (GV100GL): the NVLink2 GPUs of the AC922. POWER8's P100s use
// NVLink1, which the 5.13 removal did not touch.
const V100_SXM2 = ['1db1', '1db5']

// Module bool parameters read back as Y/N (or 1/0).
function truthy(v: string): boolean {
  return /^(y|yes|1|on|true)$/i.test(v.trim())
}

// Every check, pure; exported so `gpufleet facts` or reports can show the same evidence.
export function verifyChecks(args: HostVerifyArgs, f: HostVerifyFacts, ctx: PlanContext): Record<string, Check> {
  const checks: Record<string, Check> = {}
  const missing = args.kernelArgs.filter((a) => !argsSatisfied(f.cmdline.args, [a], []))
  // Another spelling of a word (vfio_pci.…=Y for vfio-pci.…=1) is live too: say which one.
  const live = args.kernelArgs.map((a) => {
    const w = spellingOf(f.cmdline.args, a)
    return w && w !== a ? `${a} (as ${w})` : a
  })
  checks.kernelArgs = { ok: missing.length === 0, detail: missing.length ? `not in /proc/cmdline: ${missing.join(' ')}` : `live: ${live.join(' ') || '(none required)'}`, cmdline: f.cmdline.raw }

  if (args.smt !== undefined) {
    const want = String(args.smt)
    const ok = f.smt.available && (!f.smt.capable || smtMatches(f.smt, want))
    checks.smt = { ok, detail: !f.smt.available ? 'ppc64_cpu not installed' : !f.smt.capable ? 'not SMT capable' : `ppc64_cpu --smt: ${f.smt.output || f.smt.mode} (want ${want})` }
  } else {
    checks.smt = { ok: true, detail: `ppc64_cpu --smt: ${f.smt.output || (f.smt.available ? f.smt.mode : 'not installed')} (not required)` }
  }
  if (f.cpu.generation === 'POWER8' && f.smt.available && f.smt.capable && f.smt.mode !== 'off') {
    checks.smt = { ...checks.smt, detail: `${checks.smt.detail}; POWER8 needs SMT off for KVM`, warning: true }
  }
  // Bare-metal POWER8 cores always have threads: "not SMT capable" there is old powerpc-utils
  // (< 1.3.8) misreading a newer kernel, so SMT off cannot be confirmed, and KVM needs it.
  if (f.cpu.generation === 'POWER8' && f.cpu.platform === 'PowerNV' && f.smt.available && !f.smt.capable && args.smt !== undefined && args.smt !== 'on') {
    checks.smt = { ok: false, detail: `ppc64_cpu says "${f.smt.output || 'not SMT capable'}" on a bare-metal POWER8 (${f.cpu.threads} threads online): cannot confirm SMT ${args.smt}, which KVM on POWER8 needs; update powerpc-utils (>= 1.3.8)` }
  }

  const bad = Object.keys(f.modules).filter((m) => args.forbiddenModules.some((x) => m === x || m.startsWith(`${x}_`)))
  const gpus = f.pci.filter(isNvidiaGpu)
  const boundBad = gpus.filter((g) => g.driver && args.forbiddenModules.some((x) => g.driver === x || g.driver!.startsWith(`${x}_`)))
  checks.modules = {
    ok: bad.length === 0 && boundBad.length === 0,
    detail: bad.length || boundBad.length ? `loaded: ${bad.join(', ') || '-'}; GPUs bound to ${boundBad.map((g) => `${g.address}=${g.driver}`).join(', ') || '-'}` : `none of ${args.forbiddenModules.join(', ')} loaded`,
    loaded: bad,
  }

  const expected = ctx.host.expectedGpus
  const found = gpus.map((g) => g.address)
  if (expected?.addresses?.length) {
    const absent = expected.addresses.map((a) => a.toLowerCase()).filter((a) => !found.includes(a))
    checks.gpus = { ok: absent.length === 0, detail: absent.length ? `missing from lspci: ${absent.join(', ')}` : `${expected.addresses.length} expected GPU(s) present`, found }
  } else if (expected?.count !== undefined) {
    checks.gpus = { ok: gpus.length >= expected.count, detail: `${gpus.length} NVIDIA GPU(s) found, ${expected.count} expected`, found }
  } else {
    checks.gpus = { ok: true, detail: `${gpus.length} NVIDIA GPU(s) found (no expectation in the inventory)`, found }
  }

  const groups: Record<string, string[]> = {}
  const ungrouped: string[] = []
  for (const g of gpus) {
    const n = f.iommu.byDevice[g.address]
    if (n === undefined) ungrouped.push(g.address)
    else groups[n] = f.iommu.groups[n]
  }
  const describe = (addr: string) => {
    const d = f.pci.find((p) => p.address === addr)
    return d ? `${addr} [${d.vendorId}:${d.deviceId}]${d.driver ? ` (${d.driver})` : ''}` : addr
  }
  checks.iommuGroups = {
    ok: ungrouped.length === 0,
    detail: ungrouped.length ? `no IOMMU group for ${ungrouped.join(', ')} (IOMMU off?)` : Object.entries(groups).map(([n, m]) => `group ${n}: ${m.map(describe).join(', ')}`).join('; ') || 'no GPUs',
    groups,
  }

  if (args.requireVfio) {
    const has = (m: string) => f.vfio.modules[m] !== undefined && f.vfio.modules[m] !== 'missing'
    const backend = ['vfio_iommu_spapr_tce', 'vfio_iommu_type1'].filter(has)
    const ok = has('vfio_pci') && has('vfio') && backend.length > 0
    checks.vfio = { ok, detail: Object.entries(f.vfio.modules).map(([m, s]) => `${m}: ${s}`).join(', ') + (f.vfio.disableIdleD3 ? `; disable_idle_d3=${f.vfio.disableIdleD3}` : ''), modules: f.vfio.modules }
  }
  // Once vfio_pci is loaded its parameter shows whether the command-line argument took effect.
  const wantD3 = f.cmdline.args.find((a) => /^vfio[-_]pci\.disable_idle_d3=/.test(a))?.split('=')[1]
  if (wantD3 !== undefined && f.vfio.disableIdleD3 !== undefined && truthy(wantD3) !== truthy(f.vfio.disableIdleD3)) {
    checks.disableIdleD3 = { ok: false, detail: `vfio_pci is loaded with disable_idle_d3=${f.vfio.disableIdleD3} although /proc/cmdline asks for ${wantD3}` }
  }

  const v100 = gpus.filter((g) => V100_SXM2.includes(g.deviceId))
  const npu = f.pci.filter((p) => p.vendorId === '1014' && p.deviceId === '04ea')
  if (v100.length && npu.length && f.cpu.generation !== 'POWER8' && kernelAtLeast(f.release, 5, 13)) {
    checks.nvlink2 = {
      ok: true,
      warning: true,
      detail: `V100 SXM2 with ${npu.length} NVLink2 bridge(s) on kernel ${f.release}: Linux 5.13 removed NVLink2 passthrough; the GPUs pass as plain PCIe devices`,
    }
  }
  return checks
}

// The host.verify task.
export const hostVerify = defineTask<HostVerifyArgs, HostVerifyFacts>({
  name: 'host.verify',
  summary: 'read-only checks with evidence: kernel args live, SMT, no nouveau/nvidia, GPUs, IOMMU groups, vfio',
  phase: 'any',
  facts: { cmdline: kernelCmdline, release: kernelRelease, cpu: cpuInfo, smt: smtState, modules: kernelModules, pci: pciDevices, iommu: iommuGroups, vfio: vfioStatus },
  args: hostVerifyArgs,
  writes: [], // read-only
  plan(args, facts, ctx) {
    const checks = verifyChecks(args, facts, ctx)
    const failed = Object.entries(checks).filter(([, c]) => !c.ok)
    const notes = Object.entries(checks).map(([n, c]) => `${c.ok ? (c.warning ? 'WARN' : 'ok') : 'FAIL'} ${n}: ${c.detail}`)
    if (failed.length) return { kind: 'fail', reason: failed.map(([n, c]) => `${n}: ${c.detail}`).join('; '), evidence: checks }
    return noop(`verified: ${Object.keys(checks).length} checks passed`, notes)
  },
})
