// The layers src/README.md describes, checked by `npm run lint:deps` (dependency-cruiser) in .ci/run.
// Each rule names the layer it protects; a wrong-way import fails CI with the rule's name and comment.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'tasks-facts-pure',
      severity: 'error',
      comment:
        'tasks/ and facts/ are pure (plan from facts, parse command output): they import only zod, each other, ' +
        'shell.ts (quoting), errors.ts, duration.ts and the inventory host type. No I/O, no clock, no transport.',
      from: { path: '^src/(tasks|facts)/' },
      to: {
        pathNot: [
          '^src/(tasks|facts)/',
          '^src/(shell|errors|duration)\\.ts$',
          '^src/inventory/types\\.ts$',
          '(^|/)node_modules/zod/',
        ],
      },
    },
    {
      name: 'outer-layers-not-runner',
      severity: 'error',
      comment:
        'transport, inventory, config, playbook, render and report are used by the runner and the commands, ' +
        'never the other way round: they do not import runner/ or commands/.',
      from: { path: '^src/(transport|inventory|config|playbook|render|report)/' },
      to: { path: '^src/(runner|commands)/' },
    },
    {
      name: 'runner-not-commands',
      severity: 'error',
      comment: 'The runner applies plans; CLI glue (flags, renderers, reports, the simulator) lives in commands/.',
      from: { path: '^src/runner/' },
      to: { path: '^src/commands/' },
    },
    {
      name: 'commands-only-from-cli',
      severity: 'error',
      comment: 'commands/ is the top layer: only src/cli.ts (and other commands) import it.',
      from: { path: '^src/', pathNot: '^src/(commands/|cli\\.ts$)' },
      to: { path: '^src/commands/' },
    },
    {
      name: 'sim-only-from-commands',
      severity: 'error',
      comment: 'The simulated rack is a test and demo tool: in src/ only commands/ (sim, demo) may start it.',
      from: { path: '^src/', pathNot: '^src/(sim|commands)/' },
      to: { path: '^src/sim/' },
    },
    {
      name: 'nothing-imports-cli',
      severity: 'error',
      comment: 'src/cli.ts is the entry point (and the one place that exits): nothing imports it.',
      from: {},
      to: { path: '^src/cli\\.ts$' },
    },
    {
      name: 'src-not-tests',
      severity: 'error',
      comment: 'Shipped code never imports tests, benchmarks or fixtures.',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Cycles hide the layering: split the shared part into its own file.',
      from: { path: '^src/' },
      // A cycle closed only by a type-only import (a state type named back) is no runtime cycle.
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a layer that names another's types still depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
}
