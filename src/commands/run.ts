import type { Command } from 'commander'

// `gpufleet run`: (being written)
export function registerRun(program: Command): void {
  void program
}
