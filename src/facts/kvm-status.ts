import { defineFact } from './define.js'
import type { ModuleAvailability } from './vfio-status.js'

// Whether this host can run KVM guests: the HV module (POWER8/9 bare metal) and the device node
// the kvm module registers (misc 10:232) for QEMU to open.
export interface KvmStatus {
  kvmHv: ModuleAvailability // kvm_hv: loaded, builtin, available (a .ko modprobe finds) or missing
  devKvm: 'char' | 'other' | 'missing' // /dev/kvm: a character device, something else, or absent
}

// Probes without loading anything (modprobe -n only resolves the module).
export const kvmStatus = defineFact({
  name: 'kvm.status',
  command: [
    'if [ -d /sys/module/kvm_hv/sections ] || grep -q "^kvm_hv " /proc/modules 2>/dev/null; then echo "kvm_hv loaded"',
    'elif [ -d /sys/module/kvm_hv ]; then echo "kvm_hv builtin"',
    'elif modprobe -n kvm_hv >/dev/null 2>&1; then echo "kvm_hv available"',
    'else echo "kvm_hv missing"; fi',
    'if [ -c /dev/kvm ]; then echo "dev char"; elif [ -e /dev/kvm ]; then echo "dev other"; else echo "dev missing"; fi',
  ].join('\n'),
  parse(stdout): KvmStatus {
    const out: KvmStatus = { kvmHv: 'missing', devKvm: 'missing' }
    for (const line of stdout.split('\n')) {
      const [k, v] = line.trim().split(/\s+/)
      if (k === 'kvm_hv' && (v === 'loaded' || v === 'builtin' || v === 'available' || v === 'missing')) out.kvmHv = v
      if (k === 'dev' && (v === 'char' || v === 'other' || v === 'missing')) out.devKvm = v
    }
    return out
  },
})
