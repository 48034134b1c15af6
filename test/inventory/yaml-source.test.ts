import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InventoryError } from '../../src/errors.js'
import { loadInventory } from '../../src/inventory/load.js'
import { writeTree } from './tree.js'

// "Billion laughs": each anchor aliases the previous one ten times, 10^9 strings once expanded.
function aliasBomb(indent: string): string {
  const lines = [`${indent}a0: &a0 [x, x, x, x, x, x, x, x, x, x]`]
  for (let i = 1; i <= 8; i++)
    lines.push(
      `${indent}a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    )
  return lines.join('\n')
}

describe('YAML alias bombs', () => {
  it('in inventory vars: file:line and an InventoryError (exit 2), not a stack trace', async () => {
    const dir = await writeTree({ 'hosts.yaml': `all:\n  vars:\n${aliasBomb('    ')}\n  hosts:\n    h1: {}\n` })
    const error = await loadInventory(join(dir, 'hosts.yaml')).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(InventoryError)
    expect((error as Error).message).toMatch(new RegExp(`^${join(dir, 'hosts.yaml')}:\\d+: YAML problem: Excessive alias count`))
  })

  it('in group_vars: the same', async () => {
    const dir = await writeTree({ 'hosts.yaml': 'all:\n  hosts:\n    h1: {}\n', 'group_vars/all.yml': `${aliasBomb('')}\n` })
    const error = await loadInventory(join(dir, 'hosts.yaml')).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(InventoryError)
    expect((error as Error).message).toMatch(/group_vars\/all\.yml:\d+: YAML problem: Excessive alias count/)
  })
})
