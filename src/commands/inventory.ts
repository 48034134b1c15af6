import type { Command } from 'commander'

// `gpufleet inventory`: (being written)
export function registerInventory(program: Command): void {
  void program
}
