import { z } from 'zod'
import { cpuInfo, type CpuInfo } from '../facts/cpu-info.js'
import { smtState, type SmtState } from '../facts/cpu-smt.js'
import { SMT_UNIT_NAME, SMT_UNIT_PATH, smtUnit, type SmtUnit } from '../facts/smt-unit.js'
import { libvirtDomains, type LibvirtDomains } from '../facts/libvirt-domains.js'
import { command } from '../shell.js'
import { readsGuests, smtOffNeeded, smtPolicy } from './lib/smt-policy.js'
import { change, defineTask, noop, type Step } from './define.js'

// Sets SMT live with ppc64_cpu and persists it with an enabled oneshot unit ordered before libvirtd:
// SMT is runtime-only on POWER and `smt-enabled=` is ignored on bare-metal POWER8/9, so the guide's
// plain `ppc64_cpu --smt=off` is undone by the next reboot.
//
//   - name: SMT off (required for KVM on POWER8), persisted across reboots
//     cpu.smt: { state: off }
//   - cpu.smt: { state: on, persist: false }   # rollback: SMT on, unit removed
export const cpuSmtArgs = z
  .object({
    state: z.union([z.enum(['off', 'on']), z.number().int().min(1).max(8)]).describe('off, on (all threads), or threads per core'),
    persist: z.boolean().default(true).describe('true: install and enable gpufleet-smt.service; false: remove it'),
    generations: z.array(z.string()).optional().describe("only on these CPU generations, e.g. ['POWER8'] (others: no-op)"),
  })
  .strict()
// The args plan() receives: validated, with defaults applied.
export type CpuSmtArgs = z.output<typeof cpuSmtArgs>

// The facts plan() reads, by key (gathered in the one fact exec).
export interface CpuSmtFacts extends Record<string, unknown> {
  smt: SmtState
  cpu: CpuInfo
  unit: SmtUnit
  libvirt: LibvirtDomains | undefined // for `gpufleet_smt=auto` only (reads()): POWER8-compat guests
}

// The unit file gpufleet installs for a given ppc64_cpu path and state.
export function smtUnitContent(ppc64Cpu: string, value: string): string {
  return [
    '# Managed by gpufleet (cpu.smt). SMT state is runtime-only on POWER and the smt-enabled= kernel',
    '# argument is ignored on bare-metal POWER8/9, so this re-applies it at every boot, before libvirtd.',
    '[Unit]',
    `Description=gpufleet: set SMT to ${value} before libvirtd starts`,
    'DefaultDependencies=no',
    'After=sysinit.target',
    'Before=libvirtd.service libvirt-bin.service multi-user.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${ppc64Cpu} --smt=${value}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n')
}

// Notes on why SMT matters per generation (domain notes, section 1).
function generationNote(gen: string | undefined): string[] {
  if (gen === 'POWER8') return ['POWER8: SMT off is required for KVM (KVM-HV needs host SMT off)']
  if (gen === 'POWER9') return ['POWER9: SMT off is optional for KVM (threads are independent); applied as the playbook asks']
  return []
}

// The cpu.smt task.
export const cpuSmt = defineTask<CpuSmtArgs, CpuSmtFacts>({
  name: 'cpu.smt',
  summary: 'SMT off|on|N live via ppc64_cpu, persisted with an enabled gpufleet-smt.service ordered before libvirtd',
  phase: 'stage',
  facts: { smt: smtState, cpu: cpuInfo, unit: smtUnit, libvirt: libvirtDomains },
  writes: [smtState, smtUnit, cpuInfo],
  args: cpuSmtArgs,
  reads: (args, host) => (args.persist && readsGuests(args.state, host) ? ['smt', 'cpu', 'unit', 'libvirt'] : ['smt', 'cpu', 'unit']),
  plan(args, { smt, cpu, unit, libvirt }, ctx) {
    const notes = generationNote(cpu.generation)
    if (args.generations && !args.generations.map((g) => g.toUpperCase()).includes((cpu.generation ?? '').toUpperCase())) {
      return noop(`CPU is ${cpu.generation ?? 'unknown'}, not one of ${args.generations.join(', ')}`, notes)
    }
    // `-e gpufleet_smt=auto`: SMT off only where KVM needs it; elsewhere SMT is left as it is (and
    // an existing gpufleet-smt.service with it, so a later default run has nothing to redo).
    if (args.state === 'off' && args.persist && smtPolicy(ctx) === 'auto' && cpu.generation?.startsWith('POWER')) {
      const need = smtOffNeeded(cpu, libvirt)
      if (!need) return noop(`gpufleet_smt=auto: SMT left as it is (${smt.output.replace(/\n/g, '; ') || smt.mode}): KVM on ${cpu.generation} does not need SMT off and no POWER8-compat guest is defined`, notes)
      notes.push(`gpufleet_smt=auto: ${need}`)
    }
    if (!smt.available) {
      if (!cpu.generation?.startsWith('POWER')) return noop(`not a POWER CPU (${cpu.model || 'unknown'}): no SMT control`)
      return { kind: 'fail', reason: 'ppc64_cpu is not installed (package powerpc-utils)', evidence: { cpu: cpu.model } }
    }
    const value = String(args.state)
    if (!smt.capable) {
      // Bare-metal POWER8/9 cores always have threads. powerpc-utils before 1.3.8 decides "capable"
      // from smt_snooze_delay, which newer kernels dropped, so there the answer is wrong, not the CPU.
      const bareMetal = cpu.platform === 'PowerNV' && (cpu.generation === 'POWER8' || cpu.generation === 'POWER9')
      const trap = bareMetal ? [`ppc64_cpu wrongly says "not SMT capable" on a bare-metal ${cpu.generation} (${cpu.threads} threads online): powerpc-utils older than 1.3.8 on a newer kernel; update powerpc-utils`] : []
      if (bareMetal && cpu.generation === 'POWER8' && args.state !== 'on') {
        return { kind: 'fail', reason: `cannot set SMT ${value}: ${trap[0]}; KVM on POWER8 needs SMT off`, evidence: { ppc64Cpu: smt.output, exitCode: smt.exitCode, cpu: cpu.model, platform: cpu.platform, threads: cpu.threads } }
      }
      return noop(`machine is not SMT capable (ppc64_cpu: ${smt.output || 'no output'})`, [...notes, ...trap])
    }
    const wantThreads = args.state === 'off' ? 1 : args.state === 'on' ? undefined : args.state
    const liveOk = wantThreads === undefined ? smt.mode === 'uniform' && (smt.threads ?? 0) > 1 : wantThreads === 1 ? smt.mode === 'off' : smt.mode === 'uniform' && smt.threads === wantThreads
    const steps: Step[] = []
    const done: string[] = []
    if (args.persist) {
      if (!smt.path || !/^\/[\w./+-]+$/.test(smt.path)) return { kind: 'fail', reason: `ppc64_cpu path ${JSON.stringify(smt.path)} is not usable in ExecStart` }
      const content = smtUnitContent(smt.path, value)
      if (unit.content !== content) {
        steps.push({ kind: 'write', description: `install ${SMT_UNIT_PATH}`, path: SMT_UNIT_PATH, content, mode: '0644', owner: 'root:root' })
        steps.push({ kind: 'run', description: 'systemctl daemon-reload', command: command('systemctl', 'daemon-reload') })
      }
      if (unit.content !== content || !unit.enabled) steps.push({ kind: 'run', description: `enable ${SMT_UNIT_NAME}`, command: command('systemctl', 'enable', SMT_UNIT_NAME) })
      else done.push(`${SMT_UNIT_NAME} enabled`)
    } else if (unit.exists || unit.enabled) {
      steps.push({
        kind: 'run',
        description: `remove ${SMT_UNIT_NAME}`,
        command: `${command('systemctl', 'disable', SMT_UNIT_NAME)}; ${command('rm', '-f', SMT_UNIT_PATH)} && ${command('systemctl', 'daemon-reload')}`,
      })
    } else done.push(`no ${SMT_UNIT_NAME}`)
    if (!liveOk) {
      // ppc64_cpu onlines/offlines every thread; 15 s on a POWER8 is normal.
      steps.push({ kind: 'run', description: `ppc64_cpu --smt=${value}`, command: command(smt.path ?? 'ppc64_cpu', `--smt=${value}`), timeoutMs: 300_000 })
    } else done.push(`live ${smt.output.replace(/\n/g, '; ')}`)
    if (steps.length === 0) return noop(`SMT ${value}: ${done.join(', ')}`, notes)
    return change(`SMT ${value}${args.persist ? ', persisted' : ''}${liveOk ? '' : ` (live now: ${smt.output.replace(/\n/g, '; ') || 'unknown'})`}`, steps, { notes })
  },
  // SMT as ppc64_cpu will report it and the unit as systemd will, through the facts' own parsers.
  // `on` (the core's maximum) and a mixed starting state are not predicted: the facts do not say
  // how many threads a core has then.
  predict(args, { smt, cpu }) {
    const out: Partial<CpuSmtFacts> = {}
    if (args.persist && smt.path) out.unit = smtUnit.parse(`@@ content\n${smtUnitContent(smt.path, String(args.state))}@@ is-enabled enabled\n@@ wanted\n`, 0)
    const want = args.state === 'off' ? 1 : args.state === 'on' ? undefined : args.state
    const per = smt.mode === 'off' ? 1 : smt.mode === 'uniform' ? smt.threads : undefined
    if (want !== undefined && per !== undefined && smt.path) {
      out.smt = smtState.parse(`@@ path ${smt.path}\n${want === 1 ? 'SMT is off' : `SMT=${want}`}\n\n@@ rc 0\n`, 0)
      out.cpu = { ...cpu, threads: (cpu.threads / per) * want }
    }
    return out
  },
})
