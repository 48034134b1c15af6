// Ansible's INI parser passes every value through Python's ast.literal_eval and keeps the raw
// text when that fails. This is the subset of Python literal syntax that shows up in
// inventories: numbers, strings, True/False/None, lists, tuples, dicts and sets.
// `ansible_port=22` is the number 22, `flag=True` is a boolean, `flag=true` stays the string "true".

const NO_VALUE = Symbol('not a literal')

// The value of `text` as ast.literal_eval would see it, or `text` itself when it is not a literal.
export function parsePythonLiteral(text: string): unknown {
  const parser = new LiteralParser(text)
  const value = parser.parseTop()
  return value === NO_VALUE ? text : value
}

class LiteralParser {
  private pos = 0
  constructor(private readonly text: string) {}

  parseTop(): unknown {
    // literal_eval rejects leading indentation; INI values arrive stripped anyway.
    if (/^[ \t]/.test(this.text)) return NO_VALUE
    try {
      const value = this.value()
      this.space()
      return this.pos === this.text.length ? value : NO_VALUE
    } catch (error) {
      if (error === NO_VALUE) return NO_VALUE
      throw error
    }
  }

  private fail(): never {
    throw NO_VALUE
  }

  // Whitespace and Python comments: `has_java = True # why` is True in Ansible.
  private space(): void {
    for (;;) {
      while (this.pos < this.text.length && /[ \t\r\n]/.test(this.text[this.pos])) this.pos++
      if (this.text[this.pos] !== '#') return
      while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++
    }
  }

  private eat(s: string): boolean {
    this.space()
    if (this.text.startsWith(s, this.pos)) {
      this.pos += s.length
      return true
    }
    return false
  }

  private value(): unknown {
    this.space()
    const c = this.text[this.pos]
    if (c === undefined) this.fail()
    if (c === '[') return this.sequence('[', ']')
    if (c === '(') return this.tuple()
    if (c === '{') return this.mapOrSet()
    if (c === '-' || c === '+') {
      this.pos++
      const n = this.value()
      if (typeof n !== 'number') this.fail()
      return c === '-' ? -n : n
    }
    if (/[0-9.]/.test(c)) return this.number()
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos))?.[0]
    if (word !== undefined) {
      const next = this.text[this.pos + word.length]
      if (/^[rRuUbB]{1,2}$/.test(word) && (next === "'" || next === '"')) return this.strings()
      this.pos += word.length
      if (word === 'True') return true
      if (word === 'False') return false
      if (word === 'None') return null
      this.fail()
    }
    if (c === "'" || c === '"') return this.strings()
    this.fail()
  }

  private sequence(open: string, close: string): unknown[] {
    this.eat(open)
    const items: unknown[] = []
    while (!this.eat(close)) {
      items.push(this.value())
      if (!this.eat(',')) {
        if (!this.eat(close)) this.fail()
        break
      }
    }
    return items
  }

  // Tuples become lists, as Ansible's parser coerces them.
  private tuple(): unknown {
    this.eat('(')
    if (this.eat(')')) return []
    const first = this.value()
    if (this.eat(')')) return first // parenthesised expression, not a tuple
    if (!this.eat(',')) this.fail()
    const items = [first]
    while (!this.eat(')')) {
      items.push(this.value())
      if (!this.eat(',')) {
        if (!this.eat(')')) this.fail()
        break
      }
    }
    return items
  }

  private mapOrSet(): unknown {
    this.eat('{')
    if (this.eat('}')) return {}
    const first = this.value()
    if (this.eat(':')) {
      const map: Record<string, unknown> = {}
      let key = first
      for (;;) {
        if (key !== null && typeof key === 'object') this.fail() // unhashable
        Object.defineProperty(map, String(key), { value: this.value(), enumerable: true, writable: true, configurable: true })
        if (!this.eat(',')) break
        if (this.eat('}')) return map
        key = this.value()
        if (!this.eat(':')) this.fail()
      }
      if (!this.eat('}')) this.fail()
      return map
    }
    // A set: Ansible turns it into a list.
    const items = [first]
    while (this.eat(',')) {
      if (this.eat('}')) return items
      items.push(this.value())
    }
    if (!this.eat('}')) this.fail()
    return items
  }

  private number(): number {
    const rest = this.text.slice(this.pos)
    const m = /^0[xX](?:_?[0-9a-fA-F])+/.exec(rest) ?? /^0[oO](?:_?[0-7])+/.exec(rest) ?? /^0[bB](?:_?[01])+/.exec(rest) ?? /^(?:[0-9](?:_?[0-9])*)?(?:\.(?:[0-9](?:_?[0-9])*)?)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?/.exec(rest)
    const token = m?.[0] ?? ''
    if (token === '' || token === '.' || /^\.[eE]/.test(token)) this.fail()
    // A letter right after the number (1j complex, 1x) is not a literal we keep.
    if (/^[A-Za-z0-9_]/.test(rest.slice(token.length))) this.fail()
    this.pos += token.length
    const clean = token.replace(/_/g, '')
    if (/^0[xX]/.test(clean)) return parseInt(clean.slice(2), 16)
    if (/^0[oO]/.test(clean)) return parseInt(clean.slice(2), 8)
    if (/^0[bB]/.test(clean)) return parseInt(clean.slice(2), 2)
    if (/^[0-9]+$/.test(clean)) {
      // Python 3 forbids leading zeros in decimal integers ("010" is a SyntaxError).
      if (/^0[0-9]/.test(clean) && /[1-9]/.test(clean)) this.fail()
      return Number(clean)
    }
    return Number(clean)
  }

  // One or more adjacent string literals, concatenated as Python does.
  private strings(): string {
    let out = ''
    let any = false
    for (;;) {
      this.space()
      const prefix = /^[rRuUbB]{0,2}(?=['"])/.exec(this.text.slice(this.pos))?.[0]
      if (prefix === undefined) break
      this.pos += prefix.length
      out += this.string(/r/i.test(prefix))
      any = true
    }
    if (!any) this.fail()
    return out
  }

  private string(raw: boolean): string {
    const t = this.text
    const triple = t.startsWith(t[this.pos].repeat(3), this.pos)
    const quote = triple ? t[this.pos].repeat(3) : t[this.pos]
    this.pos += quote.length
    let out = ''
    for (;;) {
      if (this.pos >= t.length) this.fail()
      if (t.startsWith(quote, this.pos)) {
        this.pos += quote.length
        return out
      }
      const c = t[this.pos]
      if (!triple && c === '\n') this.fail()
      if (c !== '\\') {
        out += c
        this.pos++
        continue
      }
      const n = t[this.pos + 1]
      if (n === undefined) this.fail()
      if (raw) {
        out += c + n
        this.pos += 2
        continue
      }
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' }
      const hex = n === 'x' ? 2 : n === 'u' ? 4 : n === 'U' ? 8 : 0
      if (hex > 0) {
        const digits = t.slice(this.pos + 2, this.pos + 2 + hex)
        if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) this.fail()
        out += String.fromCodePoint(parseInt(digits, 16))
        this.pos += 2 + hex
      } else if (n in simple) {
        out += simple[n]
        this.pos += 2
      } else {
        out += c + n // unknown escapes keep their backslash in Python
        this.pos += 2
      }
    }
  }
}
