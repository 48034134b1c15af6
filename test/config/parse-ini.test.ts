import { describe, expect, it } from 'vitest'
import { iniGet, IniSyntaxError, parseIni } from '../../src/config/parse-ini.js'

const get = (text: string, section: string, key: string) => iniGet(parseIni(text), section, key)?.value

describe('parseIni (configparser as ansible.cfg uses it)', () => {
  it('reads key = value and key: value, lower-cases keys, trims values', () => {
    const s = parseIni('[defaults]\nInventory = hosts.yaml\nforks: 20\nremote_user   =   admin  \n')
    expect([...s.get('defaults')!].map(([k, v]) => [k, v.value, v.line])).toEqual([
      ['inventory', 'hosts.yaml', 2],
      ['forks', '20', 3],
      ['remote_user', 'admin', 4],
    ])
  })

  it('skips # and ; comment lines; an inline ; after a blank is a comment, an inline # is not', () => {
    const text = '# top\n; also\n[defaults]\n  # indented comment\nremote_user = bob # not a comment\nforks = 5 ; a comment\nkey = a;b\n'
    expect(get(text, 'defaults', 'remote_user')).toBe('bob # not a comment')
    expect(get(text, 'defaults', 'forks')).toBe('5')
    expect(get(text, 'defaults', 'key')).toBe('a;b')
  })

  it('the first = or : splits key from value', () => {
    expect(get('[x]\nurl = http://h:80/a=b\n', 'x', 'url')).toBe('http://h:80/a=b')
    expect(get('[x]\nk: v = w\n', 'x', 'k')).toBe('v = w')
  })

  it('deeper-indented lines continue a value, blank lines inside kept, trailing ones dropped', () => {
    const text = '[defaults]\nremote_user = bob\n  carol\n\n  dave\n\nforks = 3\n'
    expect(get(text, 'defaults', 'remote_user')).toBe('bob\ncarol\n\ndave')
    expect(get(text, 'defaults', 'forks')).toBe('3')
  })

  it('falls back to [DEFAULT] only for a section that exists', () => {
    const text = '[DEFAULT]\nforks = 3\n[defaults]\n'
    expect(get(text, 'defaults', 'forks')).toBe('3')
    expect(get(text, 'privilege_escalation', 'forks')).toBeUndefined()
  })

  it.each([
    ['forks = 5\n', 1, "'forks = 5' comes before any [section] header"],
    ['[a]\nx = 1\n[a]\n', 3, 'section [a] appears twice'],
    ['[a]\nx = 1\nX = 2\n', 3, "'x' is set twice in this section"],
    ['[a]\njust words\n', 2, "'just words' is not 'key = value'"],
    ['[a]\n= 5\n', 2, "'= 5' is not 'key = value'"],
  ])('refuses %j at line %i', (text, line, message) => {
    let error: unknown
    try {
      parseIni(text)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(IniSyntaxError)
    expect({ line: (error as IniSyntaxError).line, message: (error as Error).message }).toEqual({ line, message })
  })
})
