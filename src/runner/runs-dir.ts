import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { ensurePrivateDir } from '../private-dir.js'

// Where run directories live when no --run-dir is given: $GPUFLEET_RUN_DIR, else the per-user XDG
// state directory ($XDG_STATE_HOME/gpufleet/runs, default ~/.local/state/gpufleet/runs). Per user,
// not per working directory, so `resume`, `runs` and `report` work from anywhere.
export function defaultRunsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GPUFLEET_RUN_DIR) return resolve(env.GPUFLEET_RUN_DIR)
  // The XDG spec says a relative $XDG_STATE_HOME is invalid and must be ignored.
  const state = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state')
  return join(state, 'gpufleet', 'runs')
}

// The help text's description of the default.
export const RUNS_DIR_HELP = '$GPUFLEET_RUN_DIR, else $XDG_STATE_HOME/gpufleet/runs (~/.local/state/gpufleet/runs)'

// Creates a directory readable by its owner only (0700): run directories hold hosts' facts,
// commands and the fleet's layout. New directories (and new parents) get 0700 whatever the umask;
// an existing one must be ours and not group/world-writable, under directories only we or root can
// write (see src/private-dir.ts), else a UsageError says why.
export function mkdirPrivate(dir: string, what = 'run directory'): void {
  ensurePrivateDir(dir, what)
}
