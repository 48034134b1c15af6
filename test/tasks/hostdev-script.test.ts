import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { hostdevScript, type HostdevChange } from '../../src/tasks/lib/hostdev-script.js'

// The attach/detach step scripts run for real under bash against a fake `virsh` that keeps each
// domain's hostdevs in a file and prints them back from dumpxml in libvirt's formatting.
let dir: string
let bin: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpufleet-virsh-'))
  bin = join(dir, 'bin')
  mkdirSync(bin)
  const virsh = `#!/bin/bash
state="${dir}/state"; mkdir -p "$state"
printf '%s\\n' "$*" >> "${dir}/log"
printf '%s\\n' "$2" >> "${dir}/domains"
cmd=$1; dom=$2; key=$(printf '%s' "$dom" | sha1sum | cut -c1-12)
case "$cmd" in
  attach-device|detach-device)
    file=$3; shift 3
    xml=$(tr -d '\\n' < "$file")
    src=$(printf '%s' "$xml" | grep -o "<source>.*</source>")
    if [ -n "\${FAKE_VIRSH_FAIL_ON:-}" ] && printf '%s' "$xml" | grep -q "$FAKE_VIRSH_FAIL_ON"; then
      echo "error: Failed to attach device from $file" >&2
      echo "error: internal error: unable to execute QEMU command 'device_add': vfio $FAKE_VIRSH_FAIL_ON: group 5 is not viable" >&2
      exit 1
    fi
    for flag in "$@"; do
      f="$state/$key\${flag#--}"
      touch "$f"
      if [ "$cmd" = attach-device ]; then
        [ -n "\${FAKE_VIRSH_DROP:-}" ] || printf '%s\\n' "$xml" >> "$f"
      else
        grep -vF "$src" "$f" > "$f.new"; mv "$f.new" "$f"
      fi
    done
    [ "$cmd" = attach-device ] && echo "Device attached successfully" || echo "Device detached successfully"
    ;;
  dumpxml)
    if [ "$2" = --inactive ]; then dom=$3; key=$(printf '%s' "$dom" | sha1sum | cut -c1-12); f="$state/\${key}config"; else f="$state/\${key}live"; fi
    echo "<domain type='kvm'>"; echo "  <name>$dom</name>"; echo "  <devices>"
    [ -f "$f" ] && sed -e 's/<source>/\\n      <source>\\n        /' -e 's|</source>|\\n      </source>\\n      |' "$f"
    echo "  </devices>"; echo "</domain>"
    ;;
esac
`
  writeFileSync(join(bin, 'virsh'), virsh)
  chmodSync(join(bin, 'virsh'), 0o755)
})

afterEach(() => rmSync(dir, { recursive: true, force: true }))

function run(script: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.env.TEST_SHELL ?? 'bash', ['-c', script], { cwd: dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env }, encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const group: HostdevChange[] = [
  { source: '0004:04:00.0', guest: { domain: 0, bus: 0, slot: 4, function: 0 }, config: true, live: false },
  { source: '0004:05:00.0', guest: { domain: 0, bus: 0, slot: 5, function: 0 }, config: true, live: false },
  { source: '0006:00:00.1', guest: { domain: 0, bus: 0, slot: 6, function: 0 }, config: true, live: false },
]
const dump = (dom: string, inactive = true) => run(`virsh dumpxml ${inactive ? '--inactive ' : ''}'${dom.replace(/'/g, `'"'"'`)}'`).stdout

describe('hostdev attach script', () => {
  test('attaches a whole group with --config, verifies with dumpxml and prints what libvirt recorded', () => {
    const r = run(hostdevScript('attach', 'vm1', group))
    expect(r.code, r.stderr).toBe(0)
    const xml = dump('vm1')
    expect(xml).toContain("<address domain='0x0004' bus='0x04' slot='0x00' function='0x0'/>")
    expect(xml).toContain("<address domain='0x0006' bus='0x00' slot='0x00' function='0x1'/>")
    expect(xml).toContain("<address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/>")
    expect(readFileSync(join(dir, 'log'), 'utf8')).toMatch(/^attach-device vm1 \S+\/0\.xml --config$/m)
    expect(r.stdout).toContain("<hostdev mode='subsystem' type='pci' managed='yes'>")
    expect(r.stdout).toContain("slot='0x05'")
  })

  test('a device failing mid-group detaches the ones already attached (no half group)', () => {
    const r = run(hostdevScript('attach', 'vm1', group), { FAKE_VIRSH_FAIL_ON: "domain='0x0006'" })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('attach of 0006:00:00.1 failed; undoing this group')
    expect(dump('vm1')).not.toContain('<hostdev')
    expect(readFileSync(join(dir, 'log'), 'utf8').match(/^detach-device /gm)).toHaveLength(2)
  })

  test('a new PHB goes in first (--config only) and is removed again when the group fails', () => {
    const onPhb = group.map((c, i) => ({ ...c, guest: { domain: 0, bus: 1, slot: i + 1, function: 0 } }))
    const r = run(hostdevScript('attach', 'vm1', onPhb, [{ index: 1, target: 1 }]), { FAKE_VIRSH_FAIL_ON: "domain='0x0006'" })
    expect(r.code).toBe(1)
    const log = readFileSync(join(dir, 'log'), 'utf8').trim().split('\n')
    expect(log[0]).toMatch(/^attach-device vm1 \S+\/phb1\.xml --config$/)
    // undo: the two attached hostdevs, then the PHB, in reverse order
    expect(log.slice(-3).map((l) => l.replace(/ \S+\/(\w+)\.xml/, ' $1'))).toEqual(['detach-device vm1 1 --config', 'detach-device vm1 0 --config', 'detach-device vm1 phb1 --config'])
  })

  test('virsh claiming success without recording the device fails the verify', () => {
    const r = run(hostdevScript('attach', 'vm1', group.slice(0, 1)), { FAKE_VIRSH_DROP: '1' })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('0004:04:00.0 is not in the config XML of vm1 after attach')
  })

  test('a running domain gets --config --live and both XMLs are checked', () => {
    const live = group.map((c) => ({ ...c, live: true }))
    const r = run(hostdevScript('attach', 'vm2', live))
    expect(r.code, r.stderr).toBe(0)
    expect(readFileSync(join(dir, 'log'), 'utf8')).toContain('--config --live')
    expect(dump('vm2', false)).toContain("domain='0x0004' bus='0x05'")
  })

  test('a hostile domain name reaches virsh as one exact argument and runs nothing', () => {
    const name = `vm1'; touch ${dir}/pwned; echo '$(touch ${dir}/pwned2)`
    const r = run(hostdevScript('attach', name, group.slice(0, 1)))
    expect(r.code, r.stderr).toBe(0)
    expect(existsSync(join(dir, 'pwned'))).toBe(false)
    expect(existsSync(join(dir, 'pwned2'))).toBe(false)
    expect(readFileSync(join(dir, 'domains'), 'utf8').split('\n')).toContain(name)
  })
})

describe('hostdev detach script', () => {
  test('detaches what attach added and verifies it is gone', () => {
    expect(run(hostdevScript('attach', 'vm1', group)).code).toBe(0)
    const r = run(hostdevScript('detach', 'vm1', group))
    expect(r.code, r.stderr).toBe(0)
    expect(dump('vm1')).not.toContain('<hostdev')
  })
})
