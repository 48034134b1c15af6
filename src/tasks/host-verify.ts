import { z } from 'zod'
import { cpuInfo, type CpuInfo } from '../facts/cpu-info.js'
import { kernelCmdline, type CmdlineFact } from '../facts/kernel-cmdline.js'
import { kernelModules, type LoadedModule } from '../facts/kernel-modules.js'
import { kernelRelease } from '../facts/kernel-release.js'
import { iommuGroups, type IommuGroups } from '../facts/iommu-groups.js'
import { kernelConfig, type KernelConfig } from '../facts/kernel-config.js'
import { kvmStatus, type KvmStatus } from '../facts/kvm-status.js'
import { isNvidiaGpu, pciDevices, type PciDevice } from '../facts/pci-devices.js'
import { smtState, type SmtState } from '../facts/cpu-smt.js'
import { vfioStatus, type VfioStatus } from '../facts/vfio-status.js'
import { change, defineTask, noop, type PlanContext } from './define.js'
import { argsSatisfied, kernelArgSchema, spellingOf } from './lib/kernel-arg-schema.js'
import { moduleNameSchema } from './lib/module-name.js'
import { smtMatches } from './lib/pending-reboot.js'
import { smtUnit, type SmtUnit } from '../facts/smt-unit.js'
import { libvirtDomains, type LibvirtDomains } from '../facts/libvirt-domains.js'
import { readsGuests, smtOffNeeded, smtPolicy } from './lib/smt-policy.js'
import { command } from '../shell.js'
import { isNvlinkBridge, V100_SXM2_IDS } from './lib/gpu-groups.js'

// Read-only health check of a prepared host, with evidence per check. A failed check fails the host.
//
//   - host.verify: { smt: off }
export const hostVerifyArgs = z
  .object({
    kernelArgs: z.array(kernelArgSchema).default(['vfio-pci.disable_idle_d3=1']).describe('arguments that must be live in /proc/cmdline'),
    smt: z
      .union([z.enum(['off', 'on']), z.number().int().min(1).max(8)])
      .optional()
      .describe('required live SMT state (unset: reported only)'),
    forbiddenModules: z.array(moduleNameSchema).default(['nouveau', 'nvidia']).describe('modules that must not be loaded (nvidia also matches nvidia_*)'),
    requireVfio: z.boolean().default(true).describe('vfio_pci and the sPAPR TCE IOMMU backend (vfio_iommu_spapr_tce) must be available'),
    loadVfio: z
      .union([z.boolean(), z.literal('after-reboot')])
      .default('after-reboot')
      .describe(
        'load vfio_pci when it is not loaded, to read whether disable_idle_d3 took effect (one exec of its own, since the fact gather stays read-only; it only observes, so the task still reports ok). after-reboot (default): only when this run rebooted the host, so a no-op re-run stays one exec per host; true: always (verify.yaml)',
      ),
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
  kvm: KvmStatus
  kconfig: KernelConfig
  smtUnit: SmtUnit | undefined // `gpufleet_smt=auto` only (reads()): the state cpu.smt applied and persisted
  libvirt: LibvirtDomains | undefined // `gpufleet_smt=auto` only (reads()): POWER8-compat guests
}

// One verify check: pass/fail, a one-line detail, and any evidence fields.
export interface Check {
  ok: boolean
  detail: string
  warning?: boolean
  [key: string]: unknown
}

// Module bool parameters read back as Y/N (or 1/0).
function truthy(v: string): boolean {
  return /^(y|yes|1|on|true)$/i.test(v.trim())
}

// The disable_idle_d3 value asked for: the live command line's, else 1 when the playbook requires
// the argument (it may then live in modprobe.d as `options vfio-pci disable_idle_d3=1`).
function wantedDisableIdleD3(args: HostVerifyArgs, f: HostVerifyFacts): { value: string; from: string } | undefined {
  const live = f.cmdline.args.find((a) => /^vfio[-_]pci\.disable_idle_d3=/.test(a))?.split('=')[1]
  if (live !== undefined) return { value: live, from: '/proc/cmdline' }
  return args.kernelArgs.some((a) => /^vfio[-_]pci\.disable_idle_d3=/.test(a)) ? { value: '1', from: 'the playbook' } : undefined
}

// The step that loads vfio_pci (not part of the read-only gather) and fails unless disable_idle_d3
// reads back as wanted.
function d3Step(want: string) {
  const expect = truthy(want) ? 'Y' : 'N'
  return {
    kind: 'run' as const,
    description: `load vfio_pci and check disable_idle_d3=${expect} took effect`,
    command: [
      `${command('modprobe', 'vfio-pci')} || { echo 'gpufleet: modprobe vfio-pci failed' >&2; exit 1; }`,
      'v=$(cat /sys/module/vfio_pci/parameters/disable_idle_d3) || exit 1',
      'echo "disable_idle_d3=$v"',
      `case "$v" in ${expect === 'Y' ? 'Y|y|1' : 'N|n|0'}) ;; *) echo "gpufleet: vfio_pci loaded with disable_idle_d3=$v, want ${expect}" >&2; exit 1;; esac`,
    ].join('\n'),
  }
}

// Every check, pure; exported so `gpufleet facts` or reports can show the same evidence.
export function verifyChecks(args: HostVerifyArgs, f: HostVerifyFacts, ctx: PlanContext): Record<string, Check> {
  // One function on purpose: a flat list of independent checks, each a few lines, read as the readiness checklist.
  const checks: Record<string, Check> = {}
  // KVM with GPU passthrough on POWER8/9 runs on bare metal (OPAL/PowerNV); a PowerVM LPAR
  // (pSeries) has no KVM-HV on these machines.
  checks.platform =
    f.cpu.platform === 'PowerNV'
      ? { ok: true, detail: `platform : PowerNV (${f.cpu.machine ?? f.cpu.model})` }
      : { ok: false, detail: f.cpu.platform === 'pSeries' ? `platform : pSeries: a PowerVM LPAR, not a bare-metal PowerNV host; KVM GPU passthrough needs PowerNV` : `/proc/cpuinfo has no "platform : PowerNV" (${f.cpu.platform ? `platform : ${f.cpu.platform}` : f.cpu.model || 'not a POWER host'})` }
  const hvOk = f.kvm.kvmHv !== 'missing'
  checks.kvm = {
    ok: hvOk && f.kvm.devKvm === 'char',
    detail: `kvm_hv ${f.kvm.kvmHv === 'missing' ? 'not found (no module for this kernel)' : f.kvm.kvmHv}; /dev/kvm ${f.kvm.devKvm === 'char' ? 'present' : f.kvm.devKvm === 'other' ? 'is not a character device' : f.kvm.kvmHv === 'loaded' ? 'missing although kvm_hv is loaded' : 'missing (load kvm_hv)'}`,
  }
  const missing = args.kernelArgs.filter((a) => !argsSatisfied(f.cmdline.args, [a], []))
  // Another spelling of a word (vfio_pci.…=Y for vfio-pci.…=1) is live too: say which one.
  const live = args.kernelArgs.map((a) => {
    const w = spellingOf(f.cmdline.args, a)
    return w && w !== a ? `${a} (as ${w})` : a
  })
  checks.kernelArgs = { ok: missing.length === 0, detail: missing.length ? `not in /proc/cmdline: ${missing.join(' ')}` : `live: ${live.join(' ') || '(none required)'}`, cmdline: f.cmdline.raw }

  // `gpufleet_smt=auto`: the policy cpu.smt applied, not a fixed "off": off where KVM needs it,
  // else what gpufleet-smt.service persists (if it exists), else not required.
  let smtWant = args.smt
  let smtWhy = ''
  if (smtPolicy(ctx) === 'auto' && args.smt === 'off') {
    const need = smtOffNeeded(f.cpu, f.libvirt)
    const unitValue = f.smtUnit?.enabled ? /--smt=(\S+)/.exec(f.smtUnit.content ?? '')?.[1] : undefined
    smtWant = need ? 'off' : unitValue === undefined ? undefined : /^\d+$/.test(unitValue) ? Number(unitValue) : (unitValue as 'off' | 'on')
    smtWhy = need ? ` (gpufleet_smt=auto: ${need})` : unitValue !== undefined ? ' (gpufleet_smt=auto: as gpufleet-smt.service persists it)' : ''
  }
  if (smtWant !== undefined) {
    const want = String(smtWant)
    const ok = f.smt.available && (!f.smt.capable || smtMatches(f.smt, want))
    checks.smt = { ok, detail: !f.smt.available ? 'ppc64_cpu not installed' : !f.smt.capable ? 'not SMT capable' : `ppc64_cpu --smt: ${f.smt.output || f.smt.mode} (want ${want}${smtWhy})` }
  } else {
    checks.smt = { ok: true, detail: `ppc64_cpu --smt: ${f.smt.output || (f.smt.available ? f.smt.mode : 'not installed')} (not required${smtPolicy(ctx) === 'auto' ? `: gpufleet_smt=auto and KVM on ${f.cpu.generation ?? 'this CPU'} does not need SMT off` : ''})` }
  }
  if (f.cpu.generation === 'POWER8' && f.smt.available && f.smt.capable && f.smt.mode !== 'off') {
    checks.smt = { ...checks.smt, detail: `${checks.smt.detail}; POWER8 needs SMT off for KVM`, warning: true }
  }
  // Bare-metal POWER8 cores always have threads: "not SMT capable" there is old powerpc-utils
  // (< 1.3.8) misreading a newer kernel, so SMT off cannot be confirmed, and KVM needs it.
  if (f.cpu.generation === 'POWER8' && f.cpu.platform === 'PowerNV' && f.smt.available && !f.smt.capable && smtWant !== undefined && smtWant !== 'on') {
    checks.smt = { ok: false, detail: `ppc64_cpu says "${f.smt.output || 'not SMT capable'}" on a bare-metal POWER8 (${f.cpu.threads} threads online): cannot confirm SMT ${smtWant}, which KVM on POWER8 needs; update powerpc-utils (>= 1.3.8)` }
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
    // A GPU host without GPUs (a card not seated, a dead riser) must not pass as ready; a host meant
    // to have none says so with gpufleet_gpus: {count: 0}.
    checks.gpus = gpus.length ? { ok: true, detail: `${gpus.length} NVIDIA GPU(s) found (no expectation in the inventory)`, found } : { ok: false, detail: 'no NVIDIA GPU found (a host meant to have none: gpufleet_gpus: {count: 0})', found }
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
  // A group is viable for VFIO only when every member is bound to vfio-pci or to nothing; PCI-to-PCI
  // bridges (class 0604) do not count, as in the kernel's own viability test.
  const hostBound = Object.values(groups)
    .flat()
    .map((a) => f.pci.find((p) => p.address === a))
    .filter((d): d is PciDevice => !!d && d.classId !== '0604' && !!d.driver && d.driver !== 'vfio-pci')
  // Viability is what passthrough needs: a playbook that does not require vfio (a reboot test, a
  // check of the boot only) gets it as a warning.
  checks.iommuGroups = {
    ok: ungrouped.length === 0 && (hostBound.length === 0 || !args.requireVfio),
    ...(hostBound.length && !args.requireVfio ? { warning: true } : {}),
    detail: ungrouped.length
      ? `no IOMMU group for ${ungrouped.join(', ')} (IOMMU off?)`
      : hostBound.length
        ? `not viable: ${hostBound.map((d) => `${d.address} (group ${f.iommu.byDevice[d.address]}) is bound to host driver ${d.driver}`).join(', ')}; every member must be bound to vfio-pci or free`
        : Object.entries(groups)
            .map(([n, m]) => `group ${n}: ${m.map(describe).join(', ')}`)
            .join('; ') || 'no GPUs',
    groups,
  }

  if (args.requireVfio) {
    const has = (m: string) => f.vfio.modules[m] !== undefined && f.vfio.modules[m] !== 'missing'
    // POWER's IOMMU backend is the sPAPR TCE driver; vfio_iommu_type1 is the x86/ARM one and cannot
    // drive a POWER PHB, so it never counts.
    const spapr = has('vfio_iommu_spapr_tce')
    const ok = has('vfio_pci') && has('vfio') && spapr
    const list = Object.entries(f.vfio.modules)
      .map(([m, s]) => `${m}: ${s}`)
      .join(', ')
    checks.vfio = {
      ok,
      detail: (spapr ? list : `no sPAPR TCE IOMMU backend (vfio_iommu_spapr_tce)${has('vfio_iommu_type1') ? '; vfio_iommu_type1 is the x86 backend and does not work on POWER' : ''}; ${list}`) + (f.vfio.disableIdleD3 ? `; disable_idle_d3=${f.vfio.disableIdleD3}` : ''),
      modules: f.vfio.modules,
    }
  }
  // Once vfio_pci is loaded its parameter shows whether disable_idle_d3 took effect (from the command
  // line or an `options vfio-pci` line). Not loaded: the plan loads it and checks (d3Step).
  const wantD3 = wantedDisableIdleD3(args, f)
  if (wantD3 !== undefined && f.vfio.disableIdleD3 !== undefined) {
    const ok = truthy(wantD3.value) === truthy(f.vfio.disableIdleD3)
    checks.disableIdleD3 = { ok, detail: ok ? `vfio_pci loaded with disable_idle_d3=${f.vfio.disableIdleD3}` : `vfio_pci is loaded with disable_idle_d3=${f.vfio.disableIdleD3} although ${wantD3.from} asks for ${wantD3.value}; reload vfio_pci (no guest using it) or reboot` }
  }

  // NVLink2 passthrough needs the vfio-pci NVLink2 subdriver: the kernel's own config says whether
  // it is there (vendor kernels backport; upstream removed it in 5.13), not its version number.
  const v100 = gpus.filter((g) => V100_SXM2_IDS.includes(g.deviceId))
  const npu = f.pci.filter(isNvlinkBridge)
  if (v100.length && npu.length && f.cpu.generation !== 'POWER8') {
    const opt = f.kconfig.options.CONFIG_VFIO_PCI_NVLINK2
    checks.nvlink2 = !f.kconfig.readable
      ? { ok: true, warning: true, detail: `cannot read ${f.kconfig.file || '/boot/config-<kver>'}: NVLink2 passthrough support of kernel ${f.release} unknown` }
      : opt === 'y'
        ? { ok: true, detail: `${f.kconfig.file}: CONFIG_VFIO_PCI_NVLINK2=y (${v100.length} V100 SXM2, ${npu.length} NVLink2 bridge functions)` }
        : {
            ok: true,
            warning: true,
            detail: `V100 SXM2 with ${npu.length} NVLink2 bridge(s), but ${f.kconfig.file} has no CONFIG_VFIO_PCI_NVLINK2 (kernel ${f.release}): the GPUs pass as plain PCIe devices, without NVLink2`,
          }
  }
  return checks
}

// The facts verify reads, by key.
const VERIFY_FACTS = { cmdline: kernelCmdline, release: kernelRelease, cpu: cpuInfo, smt: smtState, modules: kernelModules, pci: pciDevices, iommu: iommuGroups, vfio: vfioStatus, kvm: kvmStatus, kconfig: kernelConfig, smtUnit: smtUnit, libvirt: libvirtDomains }
const VERIFY_FACT_KEYS = Object.keys(VERIFY_FACTS) as Array<keyof HostVerifyFacts>

// The host.verify task.
export const hostVerify = defineTask<HostVerifyArgs, HostVerifyFacts>({
  name: 'host.verify',
  summary: 'checks with evidence: PowerNV, KVM, kernel args live, SMT, no nouveau/nvidia, GPUs, viable IOMMU groups, sPAPR vfio, disable_idle_d3 (loads vfio_pci to read it), NVLink2 from the kernel config',
  phase: 'any',
  facts: VERIFY_FACTS,
  args: hostVerifyArgs,
  writes: [], // read-only
  // The guests and the SMT unit only matter under gpufleet_smt=auto.
  reads: (args, host) => VERIFY_FACT_KEYS.filter((k) => readsGuests(args.smt, host) || (k !== 'libvirt' && k !== 'smtUnit')),
  plan(args, facts, ctx) {
    const checks = verifyChecks(args, facts, ctx)
    const failed = Object.entries(checks).filter(([, c]) => !c.ok)
    const notes = Object.entries(checks).map(([n, c]) => `${c.ok ? (c.warning ? 'WARN' : 'ok') : 'FAIL'} ${n}: ${c.detail}`)
    if (failed.length) return { kind: 'fail', reason: failed.map(([n, c]) => `${n}: ${c.detail}`).join('; '), evidence: checks }
    const want = wantedDisableIdleD3(args, facts)
    const rebooted = ctx.earlier.some((e) => e.plan.kind === 'change' && e.plan.steps.some((st) => st.kind === 'reboot'))
    const load = args.loadVfio === true || (args.loadVfio === 'after-reboot' && rebooted)
    if (args.requireVfio && load && want !== undefined && facts.vfio.disableIdleD3 === undefined && facts.vfio.modules.vfio_pci !== 'missing') {
      return change(`verified: ${Object.keys(checks).length} checks passed; vfio_pci loaded to confirm disable_idle_d3`, [d3Step(want.value)], { notes, observeOnly: true })
    }
    return noop(`verified: ${Object.keys(checks).length} checks passed`, notes)
  },
})
