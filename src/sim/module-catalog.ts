// The kernel modules every simulated kernel has (size, dependencies, parameters), and what a
// stock host-only initramfs of these hosts carries.

// Kernel module catalogue shared by every simulated kernel: size, dependencies, parameters.
export interface ModuleInfo {
  size: number
  deps: string[]
  params?: Record<string, string> // name -> default value as sysfs prints it
  path: string // under /lib/modules/<kver>/
}

const m = (path: string, size: number, deps: string[] = [], params?: Record<string, string>): ModuleInfo => ({ path, size, deps, ...(params ? { params } : {}) })

// Every module a simulated kernel has.
export const moduleCatalog: Record<string, ModuleInfo> = {
  nouveau: m('kernel/drivers/gpu/drm/nouveau/nouveau.ko.xz', 2686976, ['drm_kms_helper', 'ttm', 'drm', 'i2c_algo_bit'], { modeset: '-1', config: '(null)', debug: '(null)' }),
  drm_kms_helper: m('kernel/drivers/gpu/drm/drm_kms_helper.ko.xz', 262144, ['drm']),
  ttm: m('kernel/drivers/gpu/drm/ttm/ttm.ko.xz', 196608, ['drm']),
  drm: m('kernel/drivers/gpu/drm/drm.ko.xz', 720896),
  i2c_algo_bit: m('kernel/drivers/i2c/algos/i2c-algo-bit.ko.xz', 65536),
  vfio_pci: m('kernel/drivers/vfio/pci/vfio-pci.ko.xz', 131072, ['vfio_virqfd', 'vfio_iommu_spapr_tce', 'vfio', 'vfio_spapr_eeh'], { disable_idle_d3: 'N', nointxmask: 'N', disable_vga: 'N', ids: '' }),
  vfio_virqfd: m('kernel/drivers/vfio/vfio_virqfd.ko.xz', 65536),
  vfio_iommu_spapr_tce: m('kernel/drivers/vfio/vfio_iommu_spapr_tce.ko.xz', 131072, ['vfio', 'vfio_spapr_eeh']),
  vfio_spapr_eeh: m('kernel/drivers/vfio/vfio_spapr_eeh.ko.xz', 65536),
  vfio: m('kernel/drivers/vfio/vfio.ko.xz', 131072),
  xfs: m('kernel/fs/xfs/xfs.ko.xz', 1769472, ['libcrc32c']),
  libcrc32c: m('kernel/lib/libcrc32c.ko.xz', 65536),
  sd_mod: m('kernel/drivers/scsi/sd_mod.ko.xz', 131072),
  sg: m('kernel/drivers/scsi/sg.ko.xz', 131072),
  ahci: m('kernel/drivers/ata/ahci.ko.xz', 131072, ['libahci', 'libata']),
  libahci: m('kernel/drivers/ata/libahci.ko.xz', 131072, ['libata']),
  libata: m('kernel/drivers/ata/libata.ko.xz', 458752),
  tg3: m('kernel/drivers/net/ethernet/broadcom/tg3.ko.xz', 327680),
  xhci_pci: m('kernel/drivers/usb/host/xhci-pci.ko.xz', 65536),
  ipmi_powernv: m('kernel/drivers/char/ipmi/ipmi_powernv.ko.xz', 65536, ['ipmi_msghandler']),
  ipmi_devintf: m('kernel/drivers/char/ipmi/ipmi_devintf.ko.xz', 65536, ['ipmi_msghandler']),
  ipmi_msghandler: m('kernel/drivers/char/ipmi/ipmi_msghandler.ko.xz', 196608),
  opal_prd: m('kernel/arch/powerpc/platforms/powernv/opal-prd.ko.xz', 65536),
  ibmpowernv: m('kernel/drivers/hwmon/ibmpowernv.ko.xz', 65536),
  at24: m('kernel/drivers/misc/eeprom/at24.ko.xz', 65536),
  ofpart: m('kernel/drivers/mtd/parsers/ofpart.ko.xz', 65536),
  powernv_flash: m('kernel/drivers/mtd/devices/powernv_flash.ko.xz', 65536, ['mtd']),
  mtd: m('kernel/drivers/mtd/mtd.ko.xz', 131072),
  kvm_hv: m('kernel/arch/powerpc/kvm/kvm-hv.ko.xz', 327680, ['kvm']),
  kvm: m('kernel/arch/powerpc/kvm/kvm.ko.xz', 458752),
  dm_mirror: m('kernel/drivers/md/dm-mirror.ko.xz', 65536, ['dm_region_hash', 'dm_log', 'dm_mod']),
  dm_region_hash: m('kernel/drivers/md/dm-region-hash.ko.xz', 65536, ['dm_log', 'dm_mod']),
  dm_log: m('kernel/drivers/md/dm-log.ko.xz', 65536, ['dm_mod']),
  dm_mod: m('kernel/drivers/md/dm-mod.ko.xz', 262144),
}

// Modules a stock (host-only) initramfs of these hosts carries.
export const initramfsModules = ['xfs', 'libcrc32c', 'sd_mod', 'ahci', 'libahci', 'libata', 'dm_mod', 'dm_log', 'dm_region_hash', 'dm_mirror', 'nouveau', 'drm_kms_helper', 'ttm', 'drm', 'i2c_algo_bit']
