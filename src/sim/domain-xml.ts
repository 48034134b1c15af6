// Stock libvirt domain definitions of a simulated host: pseries guests whose devices already use
// some guest PCI slots (vm1: 0x01-0x05, vm2 also 0x06 — the slot the guide's example takes).
import type { DomainTemplate, Profile } from './profiles.js'

const pciAddr = (slot: number) => `<address type='pci' domain='0x0000' bus='0x00' slot='0x${slot.toString(16).padStart(2, '0')}' function='0x0'/>`

// The inactive XML as /etc/libvirt/qemu/<name>.xml stores it.
export function renderDomainXml(p: Profile, d: DomainTemplate, index: number): string {
  const machine = p.os === 'el8' ? 'pseries-rhel8.4.0' : 'pseries-rhel7.5.0'
  const mac = `52:54:00:${(0x10 + index).toString(16)}:3c:${(0x20 + index).toString(16)}`
  const rng =
    index > 1
      ? `    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
      ${pciAddr(6)}
    </rng>
`
      : ''
  return `<!--
WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:
  virsh edit ${d.name}
or other application using the libvirt API.
-->

<domain type='kvm'>
  <name>${d.name}</name>
  <uuid>${d.uuid}</uuid>
  <memory unit='KiB'>${d.memoryKiB}</memory>
  <currentMemory unit='KiB'>${d.memoryKiB}</currentMemory>
  <vcpu placement='static'>${d.vcpus}</vcpu>
  <os>
    <type arch='ppc64le' machine='${machine}'>hvm</type>
    <boot dev='hd'/>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/libexec/qemu-kvm</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/${d.name}.qcow2'/>
      <target dev='vda' bus='virtio'/>
      ${pciAddr(4)}
    </disk>
    <controller type='usb' index='0' model='qemu-xhci'>
      ${pciAddr(2)}
    </controller>
    <controller type='pci' index='0' model='pci-root'>
      <model name='spapr-pci-host-bridge'/>
      <target index='0'/>
    </controller>
    <controller type='virtio-serial' index='0'>
      ${pciAddr(3)}
    </controller>
    <interface type='network'>
      <mac address='${mac}'/>
      <source network='default'/>
      <model type='virtio'/>
      ${pciAddr(1)}
    </interface>
    <serial type='pty'>
      <target type='spapr-vio-serial' port='0'>
        <model name='spapr-vty'/>
      </target>
      <address type='spapr-vio' reg='0x30000000'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
      <address type='spapr-vio' reg='0x30000000'/>
    </console>
    <memballoon model='virtio'>
      ${pciAddr(5)}
    </memballoon>
${rng}    <panic model='pseries'/>
  </devices>
</domain>
`
}
