import { bootId as bootIdFact } from '../facts/kernel-boot-id.js'
import type { Step } from '../tasks/define.js'
import { bmcConfig } from './bmc-config.js'
import { gatherAll } from './host-facts.js'
import { drainBeforeReboot } from './host-guests.js'
import { conn, DEFAULT_REBOOT_TIMEOUT_MS, HostFailure, type HostState } from './host-state.js'
import { redfishClient } from './redfish.js'
import { rebootAndWait, RebootWaitError, waitForIssuedReboot, type RebootWaitContext, type RebootWaitOptions } from './reboot-wait.js'
import type { TaskBudget } from './task-budget.js'
import { sleep } from './timing.js'

// A reboot step: check the BMC (when recovery is on), drain, reboot and wait for a new boot_id,
// power-cycle once through the BMC if the host does not come back, then the one full re-gather
// (verify plans against the host as it booted).

type RebootResult = Awaited<ReturnType<typeof rebootAndWait>>

export function rebootContext(s: HostState): RebootWaitContext {
  return {
    host: s.host,
    connect: s.shared.connect,
    emit: s.shared.emit,
    runId: s.shared.runId,
    become: s.host.become,
    signal: s.shared.abort,
    beforeIssue: (bootIdBefore: string) => s.shared.journal({ kind: 'reboot', host: s.host.name, bootIdBefore }),
    afterUp: (bootIdAfter: string) => s.shared.journal({ kind: 'rebooted', host: s.host.name, bootIdAfter }),
  }
}

export async function rebootStep(s: HostState, step: Extract<Step, { kind: 'reboot' }>, task: string, budget: TaskBudget | undefined): Promise<void> {
  s.stepsThisSession++
  s.shared.emit({ kind: 'step-started', host: s.host.name, task, step: step.description })
  const timeoutMs = s.shared.rebootTimeoutMs ?? step.timeoutMs
  let result: RebootResult
  // A reboot waits under its own timeout, not the task's: its wait is handed back to the budget.
  const waitStarted = s.shared.now()
  try {
    await checkBmc(s)
    await drainBeforeReboot(s)
    const options = { stabilityMs: step.stabilityMs, ...s.shared.rebootWait, timeoutMs }
    const bootIdBefore = s.facts.get(bootIdFact)
    try {
      result = await rebootAndWait(conn(s), bootIdBefore, rebootContext(s), options)
    } catch (error) {
      if (!(error instanceof RebootWaitError)) throw error
      result = await recoverThroughBmc(s, error, bootIdBefore, options)
    }
  } catch (error) {
    if (error instanceof HostFailure) throw error
    // Only a host seen back up is available again; an aborted wait leaves it in doubt, so down.
    s.stillDown = !(error instanceof RebootWaitError) || error.hostDown
    throw error
  } finally {
    budget?.exclude(s.shared.now() - waitStarted)
  }
  s.transport = result.transport
  s.stable = result.stable
  s.stepsThisSession = 0
  s.rebootDone = true
  s.shared.emit({ kind: 'step-finished', host: s.host.name, task, step: step.description, exitCode: 0, durationMs: result.waitedMs })
  await gatherAll(s)
}

// --bmc-recover: the BMC must answer before the host goes down, or the host is not rebooted.
async function checkBmc(s: HostState): Promise<void> {
  const cfg = bmcConfig(s.host)
  if (!s.shared.hypervisor.bmcRecover || !cfg) return
  try {
    const client = redfishClient(cfg, s.shared.hypervisor.bmcCaFile)
    const systemPath = await client.systemPath()
    const powerState = await client.powerState(systemPath)
    s.bmc = { client, systemPath }
    s.shared.emit({ kind: 'bmc-action', host: s.host.name, action: 'check', url: cfg.url, powerState })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    s.shared.emit({ kind: 'bmc-action', host: s.host.name, action: 'failed', url: cfg.url, message })
    throw new HostFailure(`not rebooted: --bmc-recover is on but the BMC check failed: ${message}`, 'failed')
  }
}

// The host did not come back: power-cycle it once through its BMC (--bmc-recover) and wait again.
async function recoverThroughBmc(s: HostState, error: RebootWaitError, bootIdBefore: string, options: RebootWaitOptions): Promise<RebootResult> {
  const cfg = bmcConfig(s.host)
  if (!error.hostDown || !s.bmc || !cfg) {
    if (error.hostDown && cfg && !s.shared.hypervisor.bmcRecover) throw new RebootWaitError(`${error.message}; it has a BMC (gpufleet_bmc): --bmc-recover would power-cycle it once`, true)
    throw error
  }
  const { client, systemPath } = s.bmc
  const url = cfg.url
  const timing = s.shared.hypervisorTiming
  try {
    s.shared.emit({ kind: 'bmc-action', host: s.host.name, action: 'power-cycle', url, message: error.message.replace(/^\[[^\]]*\] /, '') })
    s.shared.journal({ kind: 'step', host: s.host.name, task: 'host.reboot', step: `bmc: ComputerSystem.Reset ForceRestart via ${url}` })
    await client.forceRestart(systemPath)
    const deadline = s.shared.now() + timing.bmcPowerOnTimeoutMs
    let state = await client.powerState(systemPath)
    while (state !== 'On') {
      if (s.shared.now() > deadline) throw new Error(`PowerState still ${state} after the power cycle`)
      await sleep(Math.min(1000, timing.guestPollMs), s.shared.abort)
      state = await client.powerState(systemPath)
    }
    s.shared.emit({ kind: 'bmc-action', host: s.host.name, action: 'power-on', url, powerState: state })
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    s.shared.emit({ kind: 'bmc-action', host: s.host.name, action: 'failed', url, message })
    throw new RebootWaitError(`${error.message}; the BMC power cycle failed: ${message}`, true)
  }
  let result: RebootResult
  try {
    result = await waitForIssuedReboot(undefined, bootIdBefore, rebootContext(s), options)
  } catch (e) {
    if (e instanceof RebootWaitError) throw new RebootWaitError(`${error.message}; power-cycled once through the BMC (${url}), still not back: ${e.message.replace(/^\[[^\]]*\] /, '')}`, e.hostDown)
    throw e
  }
  // A trial boot entry is one-shot: the boot that hung used it up, so this boot is the default,
  // known-good entry; verify then shows the argument is not live and nothing gets promoted.
  const trial = s.shared.playbook.roll.some((pt) => pt.task.name === 'boot.promote')
  s.shared.emit({ kind: 'bmc-action', host: s.host.name, action: 'recovered', url, message: trial ? 'mode: trial: it came back on its known-good (default) entry, the one-time trial entry was used by the boot that hung' : `new boot_id ${result.bootIdAfter.slice(0, 8)}` })
  return result
}
