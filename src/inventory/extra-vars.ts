// `-e/--extra-vars`, as ansible-playbook reads them: `key=value` words (shell quoting, values stay
// strings), inline YAML/JSON when the text starts with `{` or `[`, or `@file` (a YAML/JSON vars file).
// Repeatable; a later -e replaces an earlier one key by key. The result is one var layer that the
// inventory puts above every other (Ansible's highest precedence), connection vars included.
import { resolve } from 'node:path'
import { isMap, LineCounter, parseDocument } from 'yaml'
import { UsageError } from '../errors.js'
import { emptyLayer, type VarLayer } from './builder.js'
import { isSecretName, REDACTED, redactVars } from './redact.js'
import { shellWords } from './shell-words.js'
import { loadVarsFile } from './vars-files.js'

// Makes each `@file` absolute (so a saved run can be resumed from another directory).
export function absoluteExtraVars(args: readonly string[]): string[] {
  return args.map((arg) => (arg.startsWith('@') ? `@${resolve(arg.slice(1))}` : arg))
}

// Reads every -e argument in order into one layer; bad text is a UsageError, a bad @file an
// InventoryError with file:line.
export async function loadExtraVars(args: readonly string[]): Promise<VarLayer> {
  const layer = emptyLayer()
  for (const [index, arg] of args.entries()) {
    const from = arg.startsWith('@') ? await loadVarsFile(resolve(arg.slice(1))) : parseInlineExtraVars(arg, index + 1)
    for (const [key, value] of from.values) {
      layer.values.set(key, value)
      const origin = from.origins.get(key)
      if (origin) layer.origins.set(key, origin)
    }
  }
  return layer
}

// One inline -e argument (key=value words or YAML/JSON), the nth on the command line.
export function parseInlineExtraVars(arg: string, nth = 1): VarLayer {
  const layer = emptyLayer()
  const origin = { file: `--extra-vars #${nth}`, line: 1 }
  const text = arg.trim()
  if (text.startsWith('{') || text.startsWith('[')) {
    const lines = new LineCounter()
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
    if (doc.errors.length > 0) throw new UsageError(`-e ${JSON.stringify(arg)}: not valid YAML/JSON: ${doc.errors[0]!.message.split('\n')[0]}`)
    if (!isMap(doc.contents)) throw new UsageError(`-e ${JSON.stringify(arg)}: extra vars must be a mapping of names to values`)
    for (const [key, value] of Object.entries(doc.toJS() as Record<string, unknown>)) {
      layer.values.set(key, value)
      layer.origins.set(key, origin)
    }
    return layer
  }
  let words: string[]
  try {
    words = shellWords(text)
  } catch (error) {
    throw new UsageError(`-e ${JSON.stringify(arg)}: ${(error as Error).message}`)
  }
  for (const word of words) {
    const eq = word.indexOf('=')
    if (eq <= 0) throw new UsageError(`-e ${JSON.stringify(arg)}: '${word}' is not key=value (use key=value, YAML/JSON like '{"key": 1}', or @file)`)
    layer.values.set(word.slice(0, eq), word.slice(eq + 1))
    layer.origins.set(word.slice(0, eq), origin)
  }
  return layer
}

// -e arguments as saved in a run directory: an inline one holding a secret-named var (passwords,
// tokens) is saved as JSON with that value redacted; `resume` asks for it again (secretsRedacted).
export function redactExtraVars(args: readonly string[]): string[] {
  return args.map((arg) => {
    if (arg.startsWith('@')) return arg
    const values = parseInlineExtraVars(arg).values
    return [...values.keys()].some(isSecretName) ? JSON.stringify(redactVars(Object.fromEntries(values))) : arg
  })
}

// Names of saved extra vars whose values were redacted (they must be given again with -e).
export function redactedExtraVars(args: readonly string[]): string[] {
  return args.filter((arg) => !arg.startsWith('@')).flatMap((arg) => [...parseInlineExtraVars(arg).values].filter(([, v]) => v === REDACTED).map(([k]) => k))
}
