import { describe, expect, it } from 'vitest'
import { expandHostPattern, HostPatternError } from '../../src/inventory/host-pattern.js'

describe('expandHostPattern', () => {
  it('keeps a plain name', () => {
    expect(expandHostPattern('p9-01.example.com')).toEqual({ names: ['p9-01.example.com'], port: undefined })
  })

  it('expands a zero-padded numeric range', () => {
    const { names } = expandHostPattern('p9-[01:40]')
    expect(names).toHaveLength(40)
    expect(names.slice(0, 3)).toEqual(['p9-01', 'p9-02', 'p9-03'])
    expect(names.at(-1)).toBe('p9-40')
  })

  it('expands an unpadded range and a suffix', () => {
    expect(expandHostPattern('db[8:11].example.com').names).toEqual(['db8.example.com', 'db9.example.com', 'db10.example.com', 'db11.example.com'])
  })

  it('honours a step, like www[01:50:2]', () => {
    const { names } = expandHostPattern('www[01:50:2]')
    expect(names).toHaveLength(25)
    expect(names.slice(0, 3)).toEqual(['www01', 'www03', 'www05'])
    expect(names.at(-1)).toBe('www49')
  })

  it('expands letter ranges', () => {
    expect(expandHostPattern('db-[a:f]').names).toEqual(['db-a', 'db-b', 'db-c', 'db-d', 'db-e', 'db-f'])
    expect(expandHostPattern('n[a:e:2]').names).toEqual(['na', 'nc', 'ne'])
  })

  it('multiplies several ranges in one name', () => {
    expect(expandHostPattern('r[1:2]-n[a:b]').names).toEqual(['r1-na', 'r1-nb', 'r2-na', 'r2-nb'])
  })

  it('treats an empty begin as 0', () => {
    expect(expandHostPattern('h[:2]').names).toEqual(['h0', 'h1', 'h2'])
  })

  it('splits a port, also after a range', () => {
    expect(expandHostPattern('p9-01:2222')).toEqual({ names: ['p9-01'], port: 2222 })
    expect(expandHostPattern('p9-[01:02]:2200')).toEqual({ names: ['p9-01', 'p9-02'], port: 2200 })
    expect(expandHostPattern('127.0.0.1:22')).toEqual({ names: ['127.0.0.1'], port: 22 })
  })

  it('keeps IPv6 addresses whole, with a port only in brackets', () => {
    expect(expandHostPattern('::1')).toEqual({ names: ['::1'], port: undefined })
    expect(expandHostPattern('[::1]:2222')).toEqual({ names: ['::1'], port: 2222 })
  })

  it.each([
    ['p9-[05:01]', /begin 05 is greater than end 01/],
    ['p9-[1:x]', /both be numbers or both be single letters/],
    ['p9-[1]', /\[begin:end\]/],
    ['p9-[1:]', /end is missing/],
    ['p9-[01:100]', /same number of digits/],
    ['p9-[1:5:0]', /step '0'/],
    ['p9-[f:a]', /'f' comes after 'a'/],
    ['p9-[1:3', /unbalanced/],
    ['p9-01:', /ending in ':'/],
    ['p9-01:ssh', /invalid port 'ssh'/],
    ['p9-01:70000', /invalid port '70000'/],
  ])('rejects %s', (pattern, message) => {
    expect(() => expandHostPattern(pattern)).toThrow(HostPatternError)
    expect(() => expandHostPattern(pattern)).toThrow(message)
  })
})
