import { isAbsolute } from 'node:path'
import { z } from 'zod'
import { UsageError } from '../errors.js'
import type { RunSpec } from './execute.js'

// `resume` reads a run's options.json back. The file is trusted only when it is ours and nobody
// else can write it (readRunFile), and even then every value is checked the way the command line
// checks it: types and ranges, paths absolute (a relative path would mean something else from
// another working directory), the playbook a bundled name or an absolute file. Keys this version
// does not know are kept (a newer gpufleet may have saved them) but never relied upon.

const absolute = z.string().refine((p) => isAbsolute(p), { message: 'must be an absolute path' })
const limit = z.union([z.object({ kind: z.literal('count'), n: z.number().int().min(0) }), z.object({ kind: z.literal('percent'), p: z.number().min(0).max(100) })])
const positiveMs = z.number().int().positive()

const savedRunSpec = z
  .object({
    playbook: z.string().refine((p) => /^[A-Za-z0-9_-]+$/.test(p) || isAbsolute(p), { message: 'must be a bundled playbook name or an absolute path' }),
    // An absolute inventory file or directory, or an Ansible host list ('a,b,').
    inventory: z
      .string()
      .min(1)
      .refine((p) => isAbsolute(p) || p.includes(','), { message: 'must be an absolute path or a host list' }),
    limit: z.string().optional(),
    rackBy: z.union([z.object({ kind: z.literal('var'), name: z.string().min(1) }), z.object({ kind: z.literal('group'), glob: z.string().min(1) })]).optional(),
    check: z.boolean(),
    forks: z.number().int().min(1),
    knownHosts: absolute.optional(),
    acceptNewHostKeys: z.boolean(),
    askBecomePass: z.boolean(),
    output: z.enum(['tty', 'plain', 'jsonl']),
    reportDir: absolute.optional(),
    roll: z.object({ maxUnavailable: limit, perRack: z.number().int().min(1).optional(), batches: z.array(limit).optional(), maxFail: limit.optional(), rackFailStop: z.boolean() }),
    rebootTimeoutMs: positiveMs.optional(),
    stabilityMs: z.number().int().min(0).optional(),
    commandTimeoutMs: positiveMs,
    lockTtlMs: positiveMs,
    runsDir: absolute,
    connection: z.object({ user: z.string().optional(), privateKeyFile: absolute.optional(), become: z.boolean().optional(), hostKeyChecking: z.boolean().optional() }).optional(),
    extraVars: z.array(z.string()).optional(),
    verbosity: z.number().int().min(0).optional(),
    diff: z.boolean().optional(),
    vault: z.object({ vaultIds: z.array(z.string()).optional(), passwordFiles: z.array(z.string()).optional(), askVaultPass: z.boolean().optional(), defaultPasswordFile: absolute.optional(), defaultIdentityList: z.array(z.string()).optional() }).optional(),
    drain: z.enum(['refuse', 'shutdown']).optional(),
    drainTimeoutMs: positiveMs.optional(),
    drainForce: z.boolean().optional(),
    rebootBlockers: z.array(z.string()).optional(),
    blockerTimeoutMs: positiveMs.optional(),
    bmcRecover: z.boolean().optional(),
    bmcCaFile: absolute.optional(),
  })
  .passthrough()

// Checks a saved spec; a UsageError names the file and the first bad field.
export function parseSavedRunSpec(value: unknown, file: string): RunSpec {
  const result = savedRunSpec.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]!
    throw new UsageError(`${file}: ${issue.path.join('.') || 'options'}: ${issue.message}; refusing to resume from it`)
  }
  return result.data as unknown as RunSpec
}
