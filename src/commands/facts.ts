import type { Command } from 'commander'

// `gpufleet facts`: (being written)
export function registerFacts(program: Command): void {
  void program
}
