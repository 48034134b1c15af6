// Real grubenv files from GRUB's own tools (grub-editenv from grub-common; grub-set-default and
// grub-reboot from grub2-common: EL ships the same programs as grub2-*) read by gpufleet's grubenv
// parser and by boot.config's real shell text, and the grubenv edits of kernel.arg's trial plan
// (grub2-set-default, grub2-reboot with titles full of spaces and parentheses) run by the real tools.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bootConfig } from '../../src/facts/boot-config.js'
import { facts } from '../../src/facts/index.js'
import { parseGrubenv } from '../../src/facts/parse-grubenv.js'
import { kernelArg, kernelArgArgs } from '../../src/tasks/kernel-arg.js'
import { pathWith, runOk, sh } from '../helpers/real-tools.js'

let dir: string
let boot: string // stands for /boot: grubenv lives in <boot>/grub/grubenv
let bin: string
const grubenv = () => join(boot, 'grub/grubenv')
const env = () => ({ ...process.env, PATH: pathWith(bin) })
const editenv = (...args: string[]) => runOk('grub-editenv', [grubenv(), ...args], { env: env() })

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpufleet-real-grubenv-'))
  boot = join(dir, 'boot')
  bin = join(dir, 'bin')
  mkdirSync(join(boot, 'grub'), { recursive: true })
  mkdirSync(bin)
  // The EL names of the same programs, pointed at the temp grubenv ('-' = the default file).
  const wrap = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`)
    chmodSync(join(bin, name), 0o755)
  }
  wrap('grub2-editenv', `f=$1; shift; [ "$f" = - ] && f='${grubenv()}'; exec grub-editenv "$f" "$@"`)
  wrap('grub2-set-default', `exec grub-set-default --boot-directory='${boot}' "$@"`)
  wrap('grub2-reboot', `exec grub-reboot --boot-directory='${boot}' "$@" 2>/dev/null`)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('grub-editenv', () => {
  test('create, set, unset: the list output and the raw 1024-byte block parse to the same values', async () => {
    await editenv('create')
    const created = readFileSync(grubenv(), 'utf8')
    expect(created.length).toBe(1024)
    expect(created.startsWith('# GRUB Environment Block\n')).toBe(true)
    expect(parseGrubenv(created)).toEqual({})

    const kernelopts = 'root=/dev/mapper/rhel-root ro crashkernel=auto rd.lvm.lv=rhel/root vfio-pci.disable_idle_d3=1 '
    await editenv('set', 'saved_entry=3a8a1d8e0e4b4e6c9d1b0c6f5e2a7b10-4.18.0-305.el8.ppc64le', 'next_entry=CentOS Linux (4.14.0-49.10.1.el7a.ppc64le) 7 (AltArch) - gpufleet', `kernelopts=${kernelopts}`, 'boot_success=0')
    const want = {
      saved_entry: '3a8a1d8e0e4b4e6c9d1b0c6f5e2a7b10-4.18.0-305.el8.ppc64le',
      next_entry: 'CentOS Linux (4.14.0-49.10.1.el7a.ppc64le) 7 (AltArch) - gpufleet',
      kernelopts,
      boot_success: '0',
    }
    expect(parseGrubenv(await editenv('list'))).toEqual(want)
    const raw = readFileSync(grubenv(), 'utf8')
    expect(raw.length).toBe(1024)
    expect(raw.endsWith('#')).toBe(true) // padding, no final newline: boot.config echoes one
    expect(parseGrubenv(raw)).toEqual(want)

    await editenv('unset', 'next_entry')
    const { next_entry: _, ...rest } = want
    expect(parseGrubenv(await editenv('list'))).toEqual(rest)
    expect(parseGrubenv(readFileSync(grubenv(), 'utf8'))).toEqual(rest)
  })

  test("boot.config's shell text reads grubenv through grub2-editenv and through cat alike", async () => {
    const script = bootConfig.command.replaceAll('/boot/', `${boot}/`).replaceAll(`${boot}/grub2/grubenv`, grubenv())
    const viaTool = await sh(script, { env: env() })
    expect(viaTool.code, viaTool.stderr).toBe(0)
    const expected = parseGrubenv(await editenv('list'))
    expect(bootConfig.parse(viaTool.stdout, 0).grubenv).toEqual(expected)
    // A host without grub2-editenv on PATH: the raw file is read with cat.
    const noTool = await sh(script.replaceAll('grub2-editenv - list', 'no-such-grub2-editenv - list'), { env: env() })
    expect(noTool.stdout).toContain('# GRUB Environment Block')
    expect(bootConfig.parse(noTool.stdout, 0).grubenv).toEqual(expected)
  })

  test("kernel.arg's trial steps (grub2-set-default, grub2-reboot) leave the grubenv the plan expects", async () => {
    await editenv('create')
    const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '../tasks/kernel.arg/trial-adds-entry-and-boots-it-once.json'), 'utf8'))
    const bootFact = JSON.parse(readFileSync(join(import.meta.dirname, '../facts/boot.config/el7-grubby-saved-entry.json'), 'utf8'))
    const cmdline = fixture.facts.cmdline
    const plan = kernelArg.plan(kernelArgArgs.parse(fixture.args), { boot: facts['boot.config'].parse(bootFact.stdout, 0), cmdline: facts['kernel.cmdline'].parse(cmdline.$stdout, 0), modprobe: facts['modprobe.config'].parse('', 0) }, { host: { name: 'h', vars: {}, assignments: [] }, earlier: [] })
    expect(plan.kind).toBe('change')
    if (plan.kind !== 'change') return
    const grubSteps = plan.steps.filter((s) => s.kind === 'run' && /^grub2-(set-default|reboot) /.test(s.command))
    expect(grubSteps).toHaveLength(2)
    for (const step of grubSteps) {
      if (step.kind !== 'run') continue
      const r = await sh(step.command, { env: env() })
      expect(r.code, `${step.command}: ${r.stderr}`).toBe(0)
    }
    const got = parseGrubenv(await editenv('list'))
    const base = 'CentOS Linux (4.14.0-49.10.1.el7a.ppc64le) 7 (AltArch)'
    expect(got).toEqual({ saved_entry: base, next_entry: `${base} - gpufleet` })
  })
})
