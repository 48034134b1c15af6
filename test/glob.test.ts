import { describe, expect, it } from 'vitest'
import { globToRegExp } from '../src/glob.js'

describe('globToRegExp', () => {
  it('globs like a shell with classes (the rack spec)', () => {
    expect(globToRegExp('p9-r[12]-0?', { classes: true }).test('p9-r2-05')).toBe(true)
    expect(globToRegExp('p9-r[!12]-*', { classes: true }).test('p9-r2-05')).toBe(false)
    expect(globToRegExp('p9.r1', { classes: true }).test('p9-r1')).toBe(false)
  })

  it('translates classes as Python fnmatch does', () => {
    const re = (glob: string) => globToRegExp(glob, { classes: true }).source
    expect(re('p9-0*')).toBe('^p9-0.*$')
    expect(re('n[!ab]')).toBe('^n[^ab]$')
    expect(re('n[^a]')).toBe('^n[\\^a]$')
    // A `]` right after `[` belongs to the class; an unclosed `[` is literal.
    expect(globToRegExp('x[]a]', { classes: true }).test('x]')).toBe(true)
    expect(globToRegExp('x[!]a]', { classes: true }).test('x]')).toBe(false)
    expect(globToRegExp('x[!]a]', { classes: true }).test('xb')).toBe(true)
    expect(re('a[b')).toBe('^a\\[b$')
    expect(globToRegExp('a[b', { classes: true }).test('a[b')).toBe(true)
  })

  it('matches whole names only and escapes regex characters', () => {
    expect(globToRegExp('web').test('web01')).toBe(false)
    expect(globToRegExp('a+b(c)|d').test('a+b(c)|d')).toBe(true)
    expect(globToRegExp('*.example.com').test('p9.example.com')).toBe(true)
    expect(globToRegExp('*.example.com').test('p9-example-com')).toBe(false)
  })

  it('keeps `[` literal without classes (OpenSSH host patterns)', () => {
    expect(globToRegExp('[10.0.0.1]:2222').test('[10.0.0.1]:2222')).toBe(true)
    expect(globToRegExp('[ab]').test('a')).toBe(false)
  })
})
