import { z } from 'zod'
import { bootConfig, type BootConfig } from '../facts/boot-config.js'
import { detectStack } from '../facts/boot-stack.js'
import { kernelRelease } from '../facts/kernel-release.js'
import { initramfsStatus, type InitramfsStatus } from '../facts/initramfs-status.js'
import { defineTask, noop } from './define.js'
import { argsSatisfied, kernelArgSchema } from './lib/kernel-arg-schema.js'

// Read-only: the kernel that boots NEXT is prepared, whether it is the running one or a kernel
// update installed since (dnf/apt): its boot entry carries the kernel arguments and its initramfs
// keeps nouveau out (no nouveau.ko with dracut; the modprobe.d blacklist inside with initramfs-tools,
// which cannot omit a driver). host.verify checks the live state; this checks the next boot.
//
//   - boot.verify: { kernelArgs: [vfio-pci.disable_idle_d3=1] }
export const bootVerifyArgs = z
  .object({
    kernelArgs: z.array(kernelArgSchema).default(['vfio-pci.disable_idle_d3=1']).describe('arguments the entry that boots next must carry'),
  })
  .strict()
// The args plan() receives: validated, with defaults applied.
export type BootVerifyArgs = z.output<typeof bootVerifyArgs>

// The facts plan() reads, by key (gathered in the one fact exec).
export interface BootVerifyFacts extends Record<string, unknown> {
  boot: BootConfig
  initramfs: InitramfsStatus
  release: string
}

// The boot.verify task.
export const bootVerify = defineTask<BootVerifyArgs, BootVerifyFacts>({
  name: 'boot.verify',
  summary: "read-only: the kernel that boots next (a kernel update's included) carries the kernel arguments and its initramfs keeps nouveau out",
  phase: 'any',
  facts: { boot: bootConfig, initramfs: initramfsStatus, release: kernelRelease },
  args: bootVerifyArgs,
  plan(args, { boot, initramfs, release }) {
    const next = boot.next
    if (!next?.kver) return { kind: 'fail', reason: 'cannot tell which kernel boots next', evidence: { source: boot.source, entries: boot.entries.length } }
    const stack = detectStack(boot)
    const which = next.kver === release ? `kernel ${next.kver} (running, boots next)` : `kernel ${next.kver} (installed, boots next; running ${release || 'unknown'})`
    const problems: string[] = []
    const missing = args.kernelArgs.filter((a) => !argsSatisfied(next.args, [a], []))
    if (missing.length) problems.push(`its entry '${next.title}' lacks ${missing.join(' ')}`)
    const image = initramfs.images.find((i) => i.path === next.initrd)
    let imageState = 'no initramfs checked'
    if (!next.initrd || !image) problems.push(`its initramfs ${next.initrd ?? '(none named)'} does not exist`)
    else if (!image.listed) imageState = `${image.path} not listed in this gather (not the default entry's image)`
    else if (initramfs.tools.includes('dracut')) {
      if (image.nouveauDriver) problems.push(`${image.path} contains nouveau.ko (run prep: initramfs.rebuild)`)
      else imageState = `${image.path} has no nouveau`
    } else {
      if (!image.nouveauBlacklist) problems.push(`${image.path} carries no modprobe.d blacklist (run prep: initramfs.rebuild)`)
      else imageState = `${image.path} carries the modprobe.d blacklist`
    }
    const evidence = { kernel: next.kver, running: release, entry: next.title, args: next.args.join(' '), image: next.initrd, stack: stack.ok ? stack.stack : 'unsupported' }
    if (problems.length) return { kind: 'fail', reason: `${which}: ${problems.join('; ')}`, evidence }
    return noop(`${which} is prepared: ${args.kernelArgs.join(' ') || 'no arguments required'} on '${next.title}'; ${imageState}`)
  },
})
