import { isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type ScalarTag, type Tags } from 'yaml'
import { InventoryError } from '../errors.js'
import type { Origin } from './origin.js'

// An Ansible Vault ciphertext (`!vault |`). It prints the way ansible-inventory --list prints it
// (encrypted); once the loader has decrypted it with the vault passwords given (vault-values.ts),
// reveal() gives the plaintext, kept in a private field that no JSON or object walk reaches.
export class VaultedValue {
  #plaintext: string | undefined
  constructor(readonly ciphertext: string) {}
  toJSON(): { __ansible_vault: string } {
    return { __ansible_vault: this.ciphertext }
  }
  get decrypted(): boolean {
    return this.#plaintext !== undefined
  }
  // Set by the loader after decryption.
  setPlaintext(plaintext: string): void {
    this.#plaintext = plaintext
  }
  // The plaintext, or undefined when no vault password was given.
  reveal(): string | undefined {
    return this.#plaintext
  }
}

const vaultTag: ScalarTag = {
  tag: '!vault',
  identify: (v) => v instanceof VaultedValue,
  resolve: (text) => new VaultedValue(text),
}
// `!unsafe` only switches off Jinja templating in Ansible; the value is the plain string.
const unsafeTag: ScalarTag = { tag: '!unsafe', resolve: (text) => text }

// Ansible loads YAML with PyYAML, whose 1.1 resolvers are narrower than the yaml package's:
// no bare y/n booleans, floats need a dot (`e1` and `1e3` are strings), and decimal ints have
// no leading zero (`09` is a string). Host and group names like `e1` depend on this.
// Deliberate differences: no base-60 numbers, and no timestamps (a date stays the text
// `2024-01-31`, which is also how ansible-inventory prints it). PyYAML reads an unquoted PCI address
// 0004:04:00.0 as the float 14640.0 and a MAC address as an int; gpufleet keeps both as text.
const PY_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/
const PY_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/
const PY_FLOAT = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?)$/
const PY_INT = /^[-+]?(?:0|[1-9][0-9_]*)$/
// The yaml package's YAML 1.1 tags, narrowed to PyYAML's, plus Ansible's !vault and !unsafe.
function ansibleTags(tags: Tags): Tags {
  const patched: Tags = []
  for (const tag of tags) {
    if (typeof tag !== 'object' || !('test' in tag) || !tag.test) {
      patched.push(tag)
      continue
    }
    const { tag: name, format, test } = tag
    if (name === 'tag:yaml.org,2002:bool') patched.push({ ...tag, test: test.test('yes') ? PY_TRUE : PY_FALSE })
    else if (name === 'tag:yaml.org,2002:float' && format === 'EXP')
      continue // folded into PY_FLOAT
    else if (name === 'tag:yaml.org,2002:float' && !format && !test.test('.inf')) patched.push({ ...tag, test: PY_FLOAT })
    else if (name === 'tag:yaml.org,2002:int' && !format) patched.push({ ...tag, test: PY_INT })
    else if (format === 'TIME') continue
    else if (name === 'tag:yaml.org,2002:timestamp')
      continue // dates stay text, as ansible-inventory prints them
    else patched.push(tag)
  }
  return [...patched, vaultTag, unsafeTag]
}

// A parsed YAML file that can say on which line any node starts.
export interface YamlSource {
  file: string
  doc: Document
  lineOf(node: Node | null | undefined, fallback?: number): number
  // Origin at `at` (a key, usually), locating nested paths inside `value`.
  origin(at: Node | null | undefined, value?: Node | null, fallback?: number): Origin
  toJS(node: Node | null | undefined): unknown
}

// Parse YAML as Ansible does (YAML 1.1: yes/no are booleans, << merge keys), with line numbers.
export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {
    version: '1.1',
    lineCounter,
    customTags: ansibleTags,
    uniqueKeys: true,
    prettyErrors: false,
  })
  const problem = doc.errors[0] ?? doc.warnings[0]
  if (problem) {
    let offset = problem.pos[0]
    // The yaml package reports a duplicate key at the end of the previous entry; point at the key.
    if (problem.code === 'DUPLICATE_KEY') while (offset < text.length && /\s/.test(text[offset])) offset++
    const line = lineCounter.linePos(offset).line
    const message = problem.message.split('\n')[0].replace(/ at line \d+, column \d+.*$/, '')
    throw new InventoryError(`${file}:${line}: YAML ${doc.errors.length > 0 ? 'syntax error' : 'problem'}: ${message}`)
  }
  const lineOf = (node: Node | null | undefined, fallback = 1): number => (node?.range ? lineCounter.linePos(node.range[0]).line : fallback)
  const source: YamlSource = {
    file,
    doc,
    lineOf,
    origin(at, value = at, fallback) {
      return {
        file,
        line: lineOf(at, fallback),
        locate(path) {
          if (!isCollection(value) || path.length === 0) return undefined
          const inner = value.getIn(path as unknown[], true)
          return isScalar(inner) || isCollection(inner) ? lineOf(inner as Node) : undefined
        },
      }
    },
    toJS(node) {
      if (node === null || node === undefined) return null
      try {
        return node.toJS(doc, { maxAliasCount: 1000 })
      } catch (error) {
        // The yaml package refuses an alias bomb (aliases of aliases expanding exponentially) with a
        // ReferenceError; it is bad input like any other: file:line, exit 2.
        if (error instanceof ReferenceError) throw new InventoryError(`${file}:${lineOf(node)}: YAML problem: ${error.message}`)
        throw error
      }
    },
  }
  return source
}

// Iterate a YAML mapping's entries as [key text, key node, value node], aliases resolved.
// `<<: *anchor` merge keys are expanded first, so the mapping's own keys override them.
export function* mapEntries(node: Node | null | undefined, doc?: Document): Generator<[string, Node, Node | null]> {
  if (!isMap(node)) return
  const own: Array<[string, Node, Node | null]> = []
  for (const pair of node.items) {
    const key = pair.key as Node | null
    let value = (pair.value as Node | null) ?? null
    if (isAlias(value) && doc) value = (value.resolve(doc) as Node | undefined) ?? null
    // The yaml package marks merge keys with a symbol value under YAML 1.1.
    const merge = isScalar(key) && (key.value === '<<' || (typeof key.value === 'symbol' && key.value.description === '<<'))
    if (merge && doc) {
      const sources = isSeq(value) ? (value.items as Node[]) : [value]
      for (const source of sources) yield* mapEntries(isAlias(source) ? (source.resolve(doc) as Node | undefined) : source, doc)
      continue
    }
    own.push([isScalar(key) ? String(key.value) : String(key), key as Node, value])
  }
  yield* own
}
