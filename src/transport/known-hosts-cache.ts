// The known_hosts files one connector reads, parsed once and kept in step with the keys it records.
import { appendKnownHost, readKnownHostsFile, type KnownHostEntry } from './known-hosts.js'
import type { ResolvedTarget } from './resolve-target.js'

export interface KnownHostsCache {
  // Every entry a target's check sees: its user files, then the global ones.
  entriesOf(t: ResolvedTarget): Promise<KnownHostEntry[]>
  // Appends an accepted new key to t.knownHostsFiles[0]; later connections see it.
  recordKey(t: ResolvedTarget, name: string, key: Buffer): Promise<KnownHostEntry>
}

// `warn` hears once per file about a known_hosts file named explicitly that does not exist.
export function createKnownHostsCache(warn: (text: string) => void): KnownHostsCache {
  // Parsed known_hosts per file (undefined: the file does not exist); the arrays grow as keys are recorded.
  const knownHosts = new Map<string, Promise<KnownHostEntry[] | undefined>>()
  const warned = new Set<string>()
  const fileEntries = (file: string) => {
    let got = knownHosts.get(file)
    if (!got) {
      got = readKnownHostsFile(file)
      knownHosts.set(file, got)
    }
    return got
  }
  return {
    async entriesOf(t) {
      const out: KnownHostEntry[] = []
      for (const file of [...t.knownHostsFiles, ...t.globalKnownHostsFiles]) {
        const got = await fileEntries(file)
        if (got === undefined && t.knownHostsSource && file === t.knownHostsFiles[0] && !warned.has(file)) {
          warned.add(file)
          warn(`known_hosts file ${file} (named by ${t.knownHostsSource}) does not exist: every host key is unknown there${t.acceptNew ? '; new keys will be recorded in it' : ''}`)
        }
        out.push(...(got ?? []))
      }
      return out
    },
    async recordKey(t, name, key) {
      const file = t.knownHostsFiles[0]!
      const entry = await appendKnownHost(file, name, key)
      // The file may have been created just now.
      void fileEntries(file).then((list) => (list ? list.push(entry) : knownHosts.set(file, Promise.resolve([entry]))))
      return entry
    },
  }
}
