import { describe, expect, it } from 'vitest'
import { parsePythonLiteral } from '../../src/inventory/python-literal.js'

// Expected values are what Python's ast.literal_eval gives (or the raw text when it raises),
// which is how Ansible's INI plugin types values.
describe('parsePythonLiteral', () => {
  it.each([
    ['22', 22],
    ['-5', -5],
    ['1_000', 1000],
    ['0x1F', 31],
    ['0o17', 15],
    ['1.5', 1.5],
    ['1e3', 1000],
    ['True', true],
    ['False', false],
    ['None', null],
    ["'quoted'", 'quoted'],
    ['"double"', 'double'],
    ["'a' 'b'", 'ab'],
    ["'tab\\there'", 'tab\there'],
    ["r'raw\\n'", 'raw\\n'],
    ['[1, 2, 3]', [1, 2, 3]],
    ["(1, 'a')", [1, 'a']],
    ['{1, 2}', [1, 2]],
    ["{'count': 4}", { count: 4 }],
    ["[{'domain': 'vm1', 'count': 2}]", [{ domain: 'vm1', count: 2 }]],
    ['{"a": [1, {"b": None}],}', { a: [1, { b: null }] }],
    ['True # a comment', true],
  ])('%s is a literal', (text, value) => {
    expect(parsePythonLiteral(text)).toEqual(value)
  })

  it.each(['true', 'yes', 'admin', '010', '127.0.0.1', '1 + 2', '1j', "'unterminated", '[1, 2', 'foo # not a comment', '{1: }', '', '-x'])('%s stays a string', (text) => {
    expect(parsePythonLiteral(text)).toBe(text)
  })
})
