import { spawnSync } from 'node:child_process'
import { describe, expect, test } from 'vitest'
import { versionCompare } from '../../src/facts/boot-config.js'
import { parseDefaultGrub } from '../../src/facts/parse-default-grub.js'
import { closestName } from '../../src/playbook/closest-name.js'
import { setGrubCmdlineLinux } from '../../src/tasks/lib/grub-defaults-edit.js'
import { pickGuestAddresses } from '../../src/tasks/lib/hostdev-xml.js'
import { argEdits } from '../../src/tasks/lib/kernel-arg-schema.js'

describe('argEdits', () => {
  test('module parameter names fold dashes and underscores, as the kernel does', () => {
    expect(argEdits(['ro', 'vfio_pci.disable_idle_d3=0'], ['vfio-pci.disable_idle_d3=1'], [])).toEqual({ add: ['vfio-pci.disable_idle_d3=1'], remove: ['vfio_pci.disable_idle_d3=0'] })
    expect(argEdits(['ro', 'vfio_pci.disable_idle_d3=1'], [], ['vfio-pci.disable_idle_d3'])).toEqual({ add: [], remove: ['vfio_pci.disable_idle_d3=1'] })
  })
  test('an absent word with a value removes only that value', () => {
    expect(argEdits(['console=hvc0', 'console=tty0'], [], ['console=tty0'])).toEqual({ add: [], remove: ['console=tty0'] })
  })
  test('a flag without value is added once', () => {
    expect(argEdits(['ro', 'quiet'], ['quiet', 'nosmt'], [])).toEqual({ add: ['nosmt'], remove: [] })
  })
})

describe('GRUB_CMDLINE_LINUX edit', () => {
  test('replaces the last assignment and keeps the rest byte for byte', () => {
    const raw = 'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="a"\n# comment\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX b"\nGRUB_DEFAULT=saved\n'
    const dg = parseDefaultGrub(raw)
    expect(dg.cmdlineLinux).toEqual(['$GRUB_CMDLINE_LINUX', 'b'])
    expect(setGrubCmdlineLinux(dg, ['$GRUB_CMDLINE_LINUX', 'b', 'c=1'])).toBe('GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="a"\n# comment\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX b c=1"\nGRUB_DEFAULT=saved\n')
  })
  test('appends when there is none', () => {
    expect(setGrubCmdlineLinux(parseDefaultGrub('GRUB_TIMEOUT=5\n'), ['x=1'])).toBe('GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="x=1"\n')
  })
})

test('BLS version order: numeric runs compare as numbers', () => {
  const ids = ['m-4.18.0-240.el8', 'm-4.18.0-305.el8', 'm-4.18.0-80.el8', 'm-0-rescue-abc']
  expect([...ids].sort((a, b) => versionCompare(b, a))).toEqual(['m-4.18.0-305.el8', 'm-4.18.0-240.el8', 'm-4.18.0-80.el8', 'm-0-rescue-abc'])
})

test('guest slots: any used function takes the whole slot; controllers count', () => {
  const used = [1, 2, 3]
    .map((slot) => ({ domain: 0, bus: 0, slot, function: 0 }))
    .concat([
      { domain: 0, bus: 0, slot: 5, function: 3 },
      { domain: 0, bus: 1, slot: 4, function: 0 },
    ])
  expect(pickGuestAddresses(used, 3)?.map((a) => a.slot)).toEqual([4, 6, 7])
  expect(pickGuestAddresses(used, 40)).toBeUndefined()
})

test('closest task name for typos only', () => {
  const names = ['kernel.arg', 'cpu.smt', 'host.reboot']
  expect(closestName('kernel.args', names)).toBe('kernel.arg')
  expect(closestName('host.rebot', names)).toBe('host.reboot')
  expect(closestName('apt.packages', names)).toBeUndefined()
})

describe('GRUB_CMDLINE_LINUX round trip through the shell grub2-mkconfig uses', () => {
  // What `. /etc/default/grub` gives grub2-mkconfig, from the real sh.
  const sourced = (text: string) => {
    const r = spawnSync('sh', ['-c', `eval "$1"; printf '%s' "$GRUB_CMDLINE_LINUX"`, 'sh', text], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    return r.stdout
  }

  test('escaped quotes, backslashes and a literal $ survive an edit', () => {
    const raw = 'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="ro acpi_osi=\\"Linux\\" dyndbg=\\"file x.c +p\\" price=\\$5 quiet"\n'
    const dg = parseDefaultGrub(raw)
    expect(dg.vars.GRUB_CMDLINE_LINUX).toBe('ro acpi_osi="Linux" dyndbg="file x.c +p" price=$5 quiet')
    expect(dg.cmdlineLinux).toEqual(['ro', 'acpi_osi="Linux"', 'dyndbg="file x.c +p"', 'price=$5', 'quiet'])
    const edited = setGrubCmdlineLinux(dg, [...dg.cmdlineLinux, 'vfio-pci.disable_idle_d3=1'])
    expect(sourced(edited)).toBe('ro acpi_osi="Linux" dyndbg="file x.c +p" price=$5 quiet vfio-pci.disable_idle_d3=1')
    expect(parseDefaultGrub(edited).cmdlineLinux).toEqual([...dg.cmdlineLinux, 'vfio-pci.disable_idle_d3=1'])
  })

  test('a host value cannot turn into a command when rewritten', () => {
    const raw = 'GRUB_CMDLINE_LINUX="quiet x=\\"a\\" \\`touch /tmp/gpufleet-pwned\\` \\$(touch /tmp/gpufleet-pwned)"\n'
    const edited = setGrubCmdlineLinux(parseDefaultGrub(raw), [...parseDefaultGrub(raw).cmdlineLinux, 'y=1'])
    expect(sourced(edited)).toBe('quiet x="a" `touch /tmp/gpufleet-pwned` $(touch /tmp/gpufleet-pwned) y=1')
  })
})
