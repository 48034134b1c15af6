import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { command, nonEmptyLines, quote } from '../src/shell.js'

// The shell must hand back exactly what we quoted: run `printf %s <quoted>` in a real sh.
function roundTrip(value: string): string {
  return execFileSync('sh', ['-c', `printf %s ${quote(value)}`], { encoding: 'utf8' })
}

describe('quote', () => {
  it('leaves plain words alone', () => {
    expect(quote('vfio-pci.disable_idle_d3=1')).toBe('vfio-pci.disable_idle_d3=1')
    expect(quote('/boot/initramfs-4.14.0-49.10.1.el7a.ppc64le.img')).toBe('/boot/initramfs-4.14.0-49.10.1.el7a.ppc64le.img')
  })

  it('quotes the empty string as one empty word', () => {
    expect(quote('')).toBe("''")
    expect(execFileSync('sh', ['-c', `set -- ${quote('')}; echo $#`], { encoding: 'utf8' }).trim()).toBe('1')
  })

  const hostile = ["it's", '$(touch /tmp/gpufleet-pwned)', '`id`', 'a; rm -rf /', 'line1\nline2', '"double" and \\backslash', '*', '../../etc/passwd', 'tab\there', '-n', "''''", 'ünïcødé ✓', '$HOME ${PATH} !$ !!']
  for (const value of hostile) {
    it(`round-trips ${JSON.stringify(value)} through sh unchanged`, () => {
      expect(roundTrip(value)).toBe(value)
    })
  }

  it('round-trips random byte strings (no NUL) through sh', () => {
    let seed = 42
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let i = 0; i < 200; i++) {
      const len = Math.floor(rand() * 40)
      let s = ''
      for (let j = 0; j < len; j++) s += String.fromCharCode(1 + Math.floor(rand() * 126))
      expect(roundTrip(s)).toBe(s)
    }
  })
})

describe('command', () => {
  it('quotes each argument', () => {
    expect(command('grubby', '--update-kernel=ALL', '--args=a b')).toBe("grubby --update-kernel=ALL '--args=a b'")
  })
})

describe('nonEmptyLines', () => {
  it('drops blank lines and CRs', () => {
    expect(nonEmptyLines('a\r\n\n b\n  \n')).toEqual(['a', ' b'])
  })
})
