import { defineFact } from './define.js'

// The running kernel (`uname -r`).
export const kernelRelease = defineFact({
  name: 'kernel.release',
  command: 'uname -r',
  parse: (stdout) => stdout.trim(),
})
