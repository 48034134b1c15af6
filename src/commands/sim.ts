import type { Command } from 'commander'

// `gpufleet sim`: (being written)
export function registerSim(program: Command): void {
  void program
}
