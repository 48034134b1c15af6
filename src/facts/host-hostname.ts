import { defineFact } from './define.js'

// Who the host says it is (`gpufleet facts` prints it).
export const hostname = defineFact({
  name: 'host.hostname',
  command: 'cat /proc/sys/kernel/hostname 2>/dev/null || hostname',
  parse: (stdout) => stdout.trim(),
})
