import { defineFact } from './define.js'

// boot_id: a random UUID the kernel makes once per boot; a new value proves a reboot happened.
export const bootId = defineFact({
  name: 'kernel.boot-id',
  command: 'cat /proc/sys/kernel/random/boot_id',
  parse(stdout) {
    const id = stdout.trim()
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`not a boot_id: ${JSON.stringify(id)}`)
    return id
  },
})
