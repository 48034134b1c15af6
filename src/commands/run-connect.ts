import { createConnector } from '../transport/connect.js'
import { promptSecret } from '../transport/prompt.js'
import type { ConnectFn } from '../runner/connect-retry.js'
import type { RunIo, RunSpec } from './execute.js'

// How hosts are reached: the embedder's connect, else SSH (asking the become password first if told to).
export async function runConnect(spec: RunSpec, io: RunIo): Promise<ConnectFn> {
  const becomePassword = io.becomePassword ?? (spec.askBecomePass ? await promptSecret('BECOME password: ') : undefined)
  const connector = io.connect ? undefined : createConnector({ ...(spec.knownHosts ? { knownHostsFile: spec.knownHosts } : {}), acceptNewHostKeys: spec.acceptNewHostKeys, ...(becomePassword ? { becomePassword } : {}) })
  return io.connect ?? ((host, signal) => connector!.connect(host, signal))
}
