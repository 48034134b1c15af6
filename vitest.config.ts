import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Suites that start sshd or the simulated rack bind loopback ports; two workers fit 2 cores.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
})
