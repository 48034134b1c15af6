// /boot/config-<kver> of a simulated kernel: the header Kconfig writes and the options gpufleet's
// kernel.config fact reads, per kernel family. RHEL 8's 4.18 carries the vfio-pci NVLink2 subdriver
// (backported; upstream had it 5.0–5.12); the CentOS 7 AltArch 4.14 kernels predate it.
export function renderKernelConfig(kver: string): string {
  const el8 = /\.el8/.test(kver)
  const nvlink2 = el8 || /^5\.([0-9]|1[0-2])\./.test(kver)
  return [
    '#',
    '# Automatically generated file; DO NOT EDIT.',
    `# Linux/powerpc ${kver.replace(/\.ppc64le$/, '')} Kernel Configuration`,
    '#',
    'CONFIG_PPC64=y',
    'CONFIG_PPC_BOOK3S_64=y',
    'CONFIG_PPC_POWERNV=y',
    'CONFIG_PPC_PSERIES=y',
    'CONFIG_KVM_BOOK3S_64=m',
    'CONFIG_KVM_BOOK3S_64_HV=m',
    'CONFIG_KVM_BOOK3S_64_PR=m',
    'CONFIG_VFIO_IOMMU_SPAPR_TCE=m',
    'CONFIG_VFIO_SPAPR_EEH=m',
    'CONFIG_VFIO_VIRQFD=m',
    'CONFIG_VFIO=m',
    'CONFIG_VFIO_PCI=m',
    ...(nvlink2 ? ['CONFIG_VFIO_PCI_NVLINK2=y'] : []),
    '# CONFIG_VFIO_PCI_VGA is not set',
    'CONFIG_VFIO_PCI_MMAP=y',
    'CONFIG_VFIO_PCI_INTX=y',
    '',
  ].join('\n')
}
