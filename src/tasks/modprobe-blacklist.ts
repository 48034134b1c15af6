import { z } from 'zod'
import { modprobeConfig, modprobeConfigOutput, type ModprobeConfig } from '../facts/modprobe-config.js'
import { rebootSentinel } from '../facts/reboot-sentinel.js'
import { command } from '../shell.js'
import { change, defineTask, noop } from './define.js'
import { moduleNameSchema } from './lib/module-name.js'
import { markRebootStep } from './lib/reboot-marker.js'

// Writes /etc/modprobe.d/blacklist-nouveau.conf with the guide's four lines (or the same for other
// modules). dracut copies modprobe.d into the image, so a change here makes the initramfs stale;
// initramfs.rebuild sees this task's plan in ctx.earlier.
//
//   - modprobe.blacklist: {}                                # nouveau, the guide's file
//   - modprobe.blacklist: { state: absent }                 # rollback
export const BLACKLIST_FILE = '/etc/modprobe.d/blacklist-nouveau.conf'

// Args schema: checked when the playbook loads, exported by `gpufleet schema`.
export const modprobeBlacklistArgs = z
  .object({
    modules: z.array(moduleNameSchema).min(1).default(['nouveau']).describe('modules to blacklist'),
    file: z
      .string()
      .regex(/^\/etc\/modprobe\.d\/[A-Za-z0-9_.-]+\.conf$/, 'a file /etc/modprobe.d/<name>.conf')
      .default(BLACKLIST_FILE),
    state: z.enum(['present', 'absent']).default('present'),
  })
  .strict()
// The args plan() receives: validated, with defaults applied.
export type ModprobeBlacklistArgs = z.output<typeof modprobeBlacklistArgs>

// The facts plan() reads, by key (gathered in the one fact exec).
export interface ModprobeBlacklistFacts extends Record<string, unknown> {
  modprobe: ModprobeConfig
}

// The file's content: the guide's exact four lines for nouveau.
export function blacklistContent(modules: string[]): string {
  const lines = ['# Managed by gpufleet (modprobe.blacklist): keep these drivers off the GPUs so vfio-pci can take them.']
  for (const m of modules) {
    if (m === 'nouveau') lines.push('blacklist nouveau', 'blacklist lbm-nouveau', 'options nouveau modeset=0', 'alias nouveau off')
    else lines.push(`blacklist ${m}`, `alias ${m} off`)
  }
  return lines.join('\n') + '\n'
}

// The modprobe.blacklist task.
export const modprobeBlacklist = defineTask<ModprobeBlacklistArgs, ModprobeBlacklistFacts>({
  name: 'modprobe.blacklist',
  summary: "blacklist GPU drivers (nouveau) in /etc/modprobe.d, the guide's four lines; marks the initramfs stale",
  phase: 'stage',
  facts: { modprobe: modprobeConfig },
  writes: [modprobeConfig, rebootSentinel],
  args: modprobeBlacklistArgs,
  plan(args, { modprobe }) {
    const current = modprobe.files.find((f) => f.path === args.file)
    const names = args.modules.join(', ')
    if (args.state === 'absent') {
      if (!current) return noop(`${args.file} does not exist`)
      return change(`remove ${args.file} (${names} no longer blacklisted)`, [{ kind: 'run', description: `remove ${args.file}`, command: command('rm', '-f', '--', args.file) }, markRebootStep(`modprobe.blacklist: ${args.file} removed`)], {
        rebootPending: true,
        diff: `--- ${args.file}\n${prefixLines(current.content, '-')}`,
      })
    }
    const content = blacklistContent(args.modules)
    // Same directives (comments, order and spacing aside) = no-op, so a file written by hand from the
    // guide is left alone and does not make the initramfs stale.
    if (current && sameDirectives(current.content, content)) return noop(`${args.file} blacklists ${names}`)
    return change(`${current ? 'update' : 'create'} ${args.file} (blacklist ${names})`, [{ kind: 'write', description: `write ${args.file}`, path: args.file, content, mode: '0644', owner: 'root:root' }, markRebootStep(`modprobe.blacklist: ${names} blacklisted`)], {
      rebootPending: true,
      diff: `--- ${args.file}\n+++ ${args.file}\n${current ? prefixLines(current.content, '-') : ''}${prefixLines(content, '+')}`,
      notes: ['the initramfs is stale until rebuilt (initramfs.rebuild)'],
    })
  },
  // modprobe.d with the file written (or removed). Times are not predicted: a written file keeps
  // the newest time the directory had, and the directory its own.
  predict(args, { modprobe }) {
    const files = modprobe.files.filter((f) => f.path !== args.file)
    if (args.state === 'present') files.push({ path: args.file, mtime: modprobe.newestMtime ?? 0, content: blacklistContent(args.modules) })
    return { modprobe: modprobeConfig.parse(modprobeConfigOutput(files, modprobe.dirMtime), 0) }
  },
})

function directives(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim().replace(/\s+/g, ' '))
    .filter(Boolean)
    .sort()
    .join('\n')
}

function sameDirectives(a: string, b: string): boolean {
  return directives(a) === directives(b)
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
