// PCI functions of the simulated POWER machines, by kind (ids and names per
// ../../../shared/docs/power9-domain.md sections 4 and 7).
import type { PciDevice } from './profiles.js'

export const ibmBridge = (address: string, group: number): PciDevice => ({
  address,
  classCode: '0604',
  progIf: '00',
  className: 'PCI bridge',
  vendorId: '1014',
  vendorName: 'IBM',
  deviceId: '04c1',
  deviceName: 'Device',
  subsystemVendorId: '1014',
  subsystemId: '04c1',
  driver: 'pcieport',
  iommuGroup: group,
})

export const npu = (address: string, group: number): PciDevice => ({
  address,
  classCode: '0680',
  progIf: '01',
  className: 'Bridge',
  vendorId: '1014',
  vendorName: 'IBM',
  deviceId: '04ea',
  deviceName: 'Device',
  rev: '01',
  subsystemVendorId: '1014',
  subsystemId: '04ea',
  iommuGroup: group,
})

export const gpu = (address: string, deviceId: string, deviceName: string, subsystemId: string, group: number): PciDevice => ({
  address,
  classCode: '0302',
  progIf: '00',
  className: '3D controller',
  vendorId: '10de',
  vendorName: 'NVIDIA Corporation',
  deviceId,
  deviceName,
  rev: 'a1',
  subsystemVendorId: '10de',
  subsystemId,
  modules: 'nouveau',
  iommuGroup: group,
  gpu: true,
})

export const usb = (address: string, group: number): PciDevice => ({
  address,
  classCode: '0c03',
  progIf: '30',
  className: 'USB controller',
  vendorId: '104c',
  vendorName: 'Texas Instruments',
  deviceId: '8241',
  deviceName: 'TUSB73x0 SuperSpeed USB 3.0 xHCI Host Controller',
  rev: '02',
  subsystemVendorId: '104c',
  subsystemId: '8241',
  driver: 'xhci_hcd',
  modules: 'xhci_pci',
  iommuGroup: group,
})

export const sata = (address: string, group: number): PciDevice => ({
  address,
  classCode: '0106',
  progIf: '01',
  className: 'SATA controller',
  vendorId: '1b4b',
  vendorName: 'Marvell Technology Group Ltd.',
  deviceId: '9235',
  deviceName: '88SE9235 PCIe 2.0 x2 4-port SATA 6 Gb/s Controller',
  rev: '11',
  subsystemVendorId: '1b4b',
  subsystemId: '9235',
  driver: 'ahci',
  modules: 'ahci',
  iommuGroup: group,
})

export const eth = (address: string, group: number): PciDevice => ({
  address,
  classCode: '0200',
  progIf: '00',
  className: 'Ethernet controller',
  vendorId: '14e4',
  vendorName: 'Broadcom Inc. and subsidiaries',
  deviceId: '1657',
  deviceName: 'NetXtreme BCM5719 Gigabit Ethernet PCIe',
  rev: '01',
  subsystemVendorId: '14e4',
  subsystemId: '1981',
  driver: 'tg3',
  modules: 'tg3',
  iommuGroup: group,
})

export const V100_SXM2 = ['1db1', 'GV100GL [Tesla V100 SXM2 16GB]', '1212'] as const
export const P100_SXM2 = ['15f9', 'GP100GL [Tesla P100 SXM2 16GB]', '116b'] as const
export const T4 = ['1eb8', 'TU104GL [Tesla T4]', '12a2'] as const
