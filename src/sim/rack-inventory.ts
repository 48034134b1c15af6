// The rack's inventory.yaml: Ansible YAML with every host's address, port, rack, GPUs, VMs and BMC.
import fs from 'node:fs'
import YAML from 'yaml'
import type { Profile } from './profiles.js'
import type { SimHost } from './sim-host.js'
import type { Faults } from './spec.js'

export function writeInventory(file: string, keyFile: string, knownHosts: string, plan: Array<{ name: string; rack: string; address: string; profile: Profile; faults: Faults }>, hosts: Map<string, SimHost>, bmc: (name: string) => { url: string; user: string; password_file: string }): void {
  const children: Record<string, { hosts: Record<string, unknown> }> = {}
  for (const h of plan) {
    const gpus = h.profile.devices.filter((d) => d.gpu).map((d) => d.address)
    ;(children[h.rack] ??= { hosts: {} }).hosts[h.name] = {
      ansible_host: h.address,
      ansible_port: hosts.get(h.name)!.port,
      ansible_user: 'root',
      gpufleet_rack: h.rack,
      gpufleet_gpus: { addresses: gpus },
      gpufleet_vms: Object.entries(h.profile.vmGpus).map(([domain, addresses]) => ({ domain, addresses })),
      gpufleet_bmc: bmc(h.name),
    }
  }
  const doc = {
    all: {
      vars: {
        ansible_ssh_private_key_file: keyFile,
        ansible_ssh_common_args: `-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes`,
        ansible_python_interpreter: '/usr/bin/python3',
      },
      children,
    },
  }
  // YAML 1.1 quoting: Ansible's loader would read an unquoted PCI address (0004:04:00.0) as a
  // base-60 number; the 1.1 stringifier quotes every scalar that 1.1 would not read back as text.
  fs.writeFileSync(file, `# written by gpufleet sim: ${plan.length} simulated POWER hosts on loopback\n` + YAML.stringify(doc, { version: '1.1' }))
}
