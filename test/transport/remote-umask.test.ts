import { describe, expect, it } from 'vitest'
import { createLocalTransport } from '../../src/transport/local.js'

// The local transport (ansible_connection: local) runs commands like the ssh one: under umask 077.
describe('remote umask', () => {
  it('a local command runs under umask 077 even when the controller umask is 022', async () => {
    const old = process.umask(0o022)
    try {
      const t = createLocalTransport('local')
      expect((await t.exec('umask')).stdout).toBe('0077\n')
      expect((await t.exec('d=$(mktemp -d) && : > "$d/f" && stat -c %a "$d/f" && rm -rf "$d"')).stdout).toBe('600\n')
    } finally {
      process.umask(old)
    }
  })
})
