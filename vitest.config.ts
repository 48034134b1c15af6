import { defineConfig } from 'vitest/config'

// Two projects: `unit` (pure code and local processes, runs anywhere, also on Node 22 in CI) and
// `integration` (real OpenSSH sshd, the simulated rack, the built CLI, ansible-inventory: needs root
// and the Debian packages .ci/run installs). `npm test` runs both.
const integration = [
  'test/sim/**/*.test.ts',
  'test/transport/**/*.test.ts',
  'test/commands/**/*.test.ts',
  'test/runner/rack.test.ts',
  'test/runner/rack-hypervisor.test.ts',
  'test/runner/rack-execs.test.ts',
  'test/tasks/predict-sim.test.ts',
  'test/runner/rack-attach.test.ts',
  'test/runner/rack-verify.test.ts',
  'test/inventory/ansible-compat.test.ts',
  'test/config/ansible-cfg-compat.test.ts',
  'test/cli.test.ts',
  'test/inventory/extra-vars-compat.test.ts',
  'test/inventory/ansible-*.test.ts',
  'test/e2e/**/*.test.ts',
  'test/real/**/*.test.ts',
  'test/report/html.test.ts',
  'test/render/listr.test.ts',
  'test/runner/local-state.test.ts',
  'test/matrix/**/*.test.ts',
]
// The fault matrix's heavy rows (a rack of hundreds of hosts): collected only with GPUFLEET_HEAVY=1 (.ci/run sets it).
const heavy = ['test/heavy/**/*.test.ts']

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Suites that start sshd or a simulated rack bind loopback ports and use the CPU; two workers fit 2 cores.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...integration, ...heavy] } },
      { extends: true, test: { name: 'integration', include: [...integration, ...(process.env.GPUFLEET_HEAVY === '1' ? heavy : [])] } },
    ],
  },
})
