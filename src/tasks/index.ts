import type { Task } from './define.js'
import { bootPromote } from './boot-promote.js'
import { bootVerify } from './boot-verify.js'
import { bootRestore } from './boot-restore.js'
import { cpuSmt } from './cpu-smt.js'
import { gpuAttach } from './gpu-attach.js'
import { gpuDetach } from './gpu-detach.js'
import { hostReboot } from './host-reboot.js'
import { hostVerify } from './host-verify.js'
import { initramfsRebuild } from './initramfs-rebuild.js'
import { initramfsRestore } from './initramfs-restore.js'
import { kernelArg } from './kernel-arg.js'
import { modprobeBlacklist } from './modprobe-blacklist.js'

// Every task by its playbook name ('kernel.arg'), in the order `gpufleet schema` lists them.
export const tasks: Record<string, Task<any, any>> = Object.fromEntries([kernelArg, cpuSmt, modprobeBlacklist, initramfsRebuild, hostReboot, hostVerify, bootVerify, bootPromote, gpuAttach, gpuDetach, bootRestore, initramfsRestore].map((t) => [t.name, t as Task<any, any>]))
