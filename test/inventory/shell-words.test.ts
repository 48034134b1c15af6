import { describe, expect, it } from 'vitest'
import { shellWords } from '../../src/inventory/shell-words.js'

// Expected values are Python's shlex.split(posix=True) results.
describe('shellWords', () => {
  it('splits on whitespace', () => {
    expect(shellWords('  host1   a=1\tb=2 ')).toEqual(['host1', 'a=1', 'b=2'])
  })

  it('joins quoted parts into one word', () => {
    expect(shellWords(`x="a b" y='c d' z=e"f g"h`)).toEqual(['x=a b', 'y=c d', 'z=ef gh'])
    expect(shellWords(`-o ProxyCommand="ssh -W %h:%p -q user@gw"`)).toEqual(['-o', 'ProxyCommand=ssh -W %h:%p -q user@gw'])
  })

  it('handles backslashes as POSIX shlex does', () => {
    expect(shellWords('a\\ b')).toEqual(['a b'])
    expect(shellWords('"a\\"b"')).toEqual(['a"b'])
    expect(shellWords('"a\\nb"')).toEqual(['a\\nb'])
    expect(shellWords(`'a\\b'`)).toEqual(['a\\b'])
  })

  it('keeps an empty quoted word', () => {
    expect(shellWords(`a '' b`)).toEqual(['a', '', 'b'])
  })

  it('drops comments only when asked', () => {
    expect(shellWords('host1 a=1 # comment', { comments: true })).toEqual(['host1', 'a=1'])
    expect(shellWords('host1 a=1#x', { comments: true })).toEqual(['host1', 'a=1'])
    expect(shellWords('host1 "a#b"', { comments: true })).toEqual(['host1', 'a#b'])
    expect(shellWords('a #b')).toEqual(['a', '#b'])
  })

  it('rejects unbalanced quotes', () => {
    expect(() => shellWords('x="a b')).toThrow('No closing quotation')
    expect(() => shellWords("x='a b")).toThrow('No closing quotation')
  })
})
