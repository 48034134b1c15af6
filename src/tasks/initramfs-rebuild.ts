import { z } from 'zod'
import { bootConfig, type BootConfig } from '../facts/boot-config.js'
import { DRACUT_CONF_DIR, dracutConfig, type DracutConfig } from '../facts/dracut-config.js'
import { initramfsStatus, type InitramfsStatus } from '../facts/initramfs-status.js'
import { modprobeConfig, type ModprobeConfig } from '../facts/modprobe-config.js'
import { gpufleetBackups } from '../facts/gpufleet-backups.js'
import { rebootSentinel } from '../facts/reboot-sentinel.js'
import { command } from '../shell.js'
import { change, defineTask, noop, type PlanContext, type Step } from './define.js'
import { DRACUT_OMIT_CONF, dracutOmitContent, omittedDrivers, sameDracutSettings } from './lib/dracut-omit-conf.js'
import { initramfsRebuildScript } from './lib/initramfs-script.js'
import { moduleNameSchema } from './lib/module-name.js'

// Rebuilds the initramfs of the kernel that boots NEXT (not `uname -r`: plain `dracut -f` targets the
// running kernel) without nouveau, only when needed; backs up and restores on failure. With dracut it
// also keeps /etc/dracut.conf.d/gpufleet-omit-nouveau.conf (omit_drivers+=) so the images later
// dracut runs build, a kernel update's included, leave the same drivers out.
//
//   - name: Rebuild the initramfs without nouveau
//     initramfs.rebuild: {}
export const initramfsRebuildArgs = z
  .object({
    omitDrivers: z.array(moduleNameSchema).min(1).default(['nouveau']).describe('dracut --omit-drivers'),
    force: z.boolean().default(false).describe('rebuild even when the image looks current'),
    minFreeFactor: z.number().min(1).max(10).default(2).describe('free space needed in /boot, in multiples of the image size'),
  })
  .strict()
// The args plan() receives: validated, with defaults applied.
export type InitramfsRebuildArgs = z.output<typeof initramfsRebuildArgs>

// The facts plan() reads, by key (gathered in the one fact exec).
export interface InitramfsRebuildFacts extends Record<string, unknown> {
  boot: BootConfig
  initramfs: InitramfsStatus
  modprobe: ModprobeConfig
  dracut: DracutConfig
}

// A kernel version as file names carry it: 4.14.0-49.10.1.el7a.ppc64le, 6.1.0-27-powerpc64le.
const KVER = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/

// Tasks whose change makes the initramfs stale (they edit what dracut copies in).
const STALING_TASKS = ['modprobe.blacklist']

// The initramfs.rebuild task.
export const initramfsRebuild = defineTask<InitramfsRebuildArgs, InitramfsRebuildFacts>({
  name: 'initramfs.rebuild',
  summary: "rebuild the next-boot kernel's initramfs without nouveau (dracut --omit-drivers), backed up and restored on failure",
  phase: 'stage',
  facts: { boot: bootConfig, initramfs: initramfsStatus, modprobe: modprobeConfig, dracut: dracutConfig },
  writes: [initramfsStatus, dracutConfig, rebootSentinel, gpufleetBackups],
  args: initramfsRebuildArgs,
  plan(args, { boot, initramfs, modprobe, dracut }, ctx: PlanContext) {
    // One function on purpose: the preflight refusals in order, then one backed-up rebuild step; each refusal needs the checks before it.
    const next = boot.next
    if (!next?.kver) return { kind: 'fail', reason: 'cannot tell which kernel boots next', evidence: { entries: boot.entries.length, source: boot.source } }
    // The version comes from a file name on the host and becomes dracut's positional argument: a
    // leading '-' would be read as an option, so only version-shaped text is accepted.
    if (!KVER.test(next.kver)) return { kind: 'fail', reason: `the next boot entry '${next.title}' has an unusable kernel version ${JSON.stringify(next.kver)}`, evidence: { kernel: next.kernel } }
    const tool = initramfs.tools.includes('dracut') ? 'dracut' : initramfs.tools.includes('update-initramfs') ? 'update-initramfs' : undefined
    if (!tool) return { kind: 'fail', reason: 'neither dracut nor update-initramfs is installed', evidence: { tools: initramfs.tools } }
    const path = next.initrd ?? (tool === 'dracut' ? `/boot/initramfs-${next.kver}.img` : `/boot/initrd.img-${next.kver}`)
    const image = initramfs.images.find((i) => i.path === path)
    if (!image) return { kind: 'fail', reason: `the next boot entry '${next.title}' names ${path}, which does not exist`, evidence: { images: initramfs.images.map((i) => i.path) } }
    // Skipped: the gather lists only the default entry's image (per grubenv/grubby), and petitboot's
    // choice (a one-shot or stale entry) differs. Whether it holds nouveau is checked in the step.
    const unexamined = !image.listed && image.skipped === true
    if (!image.listed && !unexamined) return { kind: 'fail', reason: `cannot list ${path} (is lsinitrd installed?)`, evidence: { tools: initramfs.tools } }
    const why: string[] = []
    // initramfs-tools cannot omit a driver, so on Debian a nouveau.ko in the image is expected; what
    // keeps it from loading is the blacklist the image copies from /etc/modprobe.d.
    const found = tool === 'dracut' && args.omitDrivers.includes('nouveau') && image.nouveauDriver
    if (found) why.push(`${path} contains nouveau.ko`)
    if (modprobe.newestMtime !== undefined && modprobe.newestMtime > image.mtime) why.push('/etc/modprobe.d changed after the image was built')
    const staling = ctx.earlier.filter((e) => STALING_TASKS.includes(e.task) && e.plan.kind === 'change')
    if (staling.length) why.push(`${staling.map((e) => e.task).join(', ')} changes /etc/modprobe.d in this run`)
    // gpufleet's dracut drop-in (dracut only: update-initramfs never reads dracut.conf.d).
    const conf = dracut.files.find((f) => f.path === DRACUT_OMIT_CONF)
    const confSteps: Step[] = []
    let confDiff = ''
    if (tool === 'dracut' && !(conf && sameDracutSettings(conf.content, args.omitDrivers))) {
      const content = dracutOmitContent(args.omitDrivers)
      // The dracut package ships the directory; a host where it was removed gets it back (0755).
      if (!dracut.dir) confSteps.push({ kind: 'run', description: `create ${DRACUT_CONF_DIR}`, command: command('mkdir', '-p', '-m', '0755', '--', DRACUT_CONF_DIR) })
      confSteps.push({ kind: 'write', description: `write ${DRACUT_OMIT_CONF} (omit_drivers+=" ${args.omitDrivers.join(' ')} ")`, path: DRACUT_OMIT_CONF, content, mode: '0644', owner: 'root:root' })
      confDiff = `--- ${DRACUT_OMIT_CONF}\n+++ ${DRACUT_OMIT_CONF}\n${conf ? prefixLines(conf.content, '-') : ''}${prefixLines(content, '+')}`
    }
    // When the drop-in makes the image stale. Unlike modprobe.d, whose files dracut copies INTO the
    // image, the drop-in only steers what dracut leaves out, so an image built before it is stale
    // only if it may hold a driver the drop-in omits. The gather's listing proves that for nouveau
    // (nouveau.ko present or not), so a clean image with a newer drop-in is current: a host prepared
    // before gpufleet wrote the drop-in gets just the file, no rebuild, no reboot. Any other driver
    // the drop-in omits is not in the listing; for those, a drop-in newer than the image (or written
    // now) is the evidence, as modprobe.d's mtime is. An unlisted image is checked in the step anyway.
    if (tool === 'dracut' && image.listed) {
      const confDrivers = confSteps.length ? args.omitDrivers : omittedDrivers(conf?.content ?? '')
      const unproven = confDrivers.filter((d) => d !== 'nouveau')
      const confNewer = confSteps.length > 0 || (conf !== undefined && conf.mtime > image.mtime)
      if (confNewer && unproven.length) why.push(`${DRACUT_OMIT_CONF}, which omits ${unproven.join(', ')}, postdates the image`)
    }
    if (args.force) why.push('force: true')
    const pendingNote = image.builtInBootId && image.builtInBootId === initramfs.bootId ? ['rebuilt during this boot: pending reboot'] : undefined
    const checkFirst = unexamined && why.length === 0 && tool === 'dracut' && args.omitDrivers.includes('nouveau')
    if (why.length === 0 && !checkFirst) {
      const what = tool === 'dracut' ? 'has no nouveau and postdates /etc/modprobe.d' : 'postdates /etc/modprobe.d, so it carries the blacklist'
      if (confSteps.length) {
        // Only future builds change: no rebuild, nothing to reboot for.
        return change(`${conf ? 'update' : 'write'} ${DRACUT_OMIT_CONF} so future initramfs builds (kernel updates) omit ${args.omitDrivers.join(', ')}; ${path} ${what}`, confSteps, {
          diff: confDiff,
          ...(pendingNote ? { notes: pendingNote } : {}),
        })
      }
      return noop(`${path} (kernel ${next.kver}, boots next) ${what}${tool === 'dracut' ? `; ${DRACUT_OMIT_CONF} omits ${args.omitDrivers.join(', ')}` : ''}`, pendingNote)
    }
    const script = initramfsRebuildScript({ image: path, kver: next.kver, omitDrivers: args.omitDrivers, tool, minFreeFactor: args.minFreeFactor, checkFirst })
    if (checkFirst) {
      return change(
        `check ${path} (kernel ${next.kver}, boots next via ${boot.nextVia}) and rebuild it without ${args.omitDrivers.join(', ')} only if it contains them`,
        [...confSteps, { kind: 'run', description: `list ${path}; back up, rebuild (${tool}) and verify it if needed`, command: script, timeoutMs: 30 * 60_000 }],
        { ...(confDiff ? { diff: confDiff } : {}), notes: [`${path} was not listed during the fact gather (it is not the default entry's image); a rebuild, if any, marks the reboot pending`] },
      )
    }
    const need = image.sizeBytes * args.minFreeFactor
    if (initramfs.bootFreeBytes !== undefined && initramfs.bootFreeBytes < need) {
      return {
        kind: 'fail',
        reason: `not enough free space in /boot to rebuild ${path}: ${mib(initramfs.bootFreeBytes)} free, need ${mib(need)} (${args.minFreeFactor}x the image); nothing changed`,
        evidence: { bootFreeBytes: initramfs.bootFreeBytes, imageBytes: image.sizeBytes },
      }
    }
    return change(`rebuild ${path} for ${next.kver} without ${args.omitDrivers.join(', ')}: ${why.join('; ')}`, [...confSteps, { kind: 'run', description: `back up, rebuild (${tool}) and verify ${path}`, command: script, timeoutMs: 30 * 60_000 }], {
      rebootPending: true,
      ...(confDiff ? { diff: confDiff } : {}),
      ...(tool === 'update-initramfs' ? { notes: ['update-initramfs has no --omit-drivers; the modprobe.d blacklist keeps nouveau out'] } : {}),
    })
  },
})

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`
}

function prefixLines(text: string, p: string): string {
  return (
    text
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => p + l)
      .join('\n') + '\n'
  )
}
