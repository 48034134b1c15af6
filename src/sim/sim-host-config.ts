// What a simulated host is made of, and the states it goes through.
import type { ParsedKey } from 'ssh2'
import type { Profile } from './profiles.js'
import type { SimEvent } from './sim-host.js'
import type { Faults } from './spec.js'

// up, rebooting (down for its reboot time), down (powered off / never came back), bricked, unreachable (fault).
export type HostState = 'up' | 'rebooting' | 'down' | 'bricked' | 'unreachable'

// What a host is made of.
export interface SimHostConfig {
  name: string
  rack: string
  address: string
  profile: Profile
  faults: Faults
  hostKey: string // OpenSSH private key
  clientPublicKey: ParsedKey
  rebootTimeMs: number
  dracutTimeMs: number
  root: string // the merged root path inside the namespace
  emit: (e: SimEvent) => void
}
