import type { Command } from 'commander'

// `gpufleet schema`: (being written)
export function registerSchema(program: Command): void {
  void program
}
