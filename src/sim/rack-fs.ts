// The rack's filesystem: a tmpfs at DIR/fs mounted inside the rack's own mount namespace.
import fs from 'node:fs'
import path from 'node:path'
import { NamespaceKeeper } from './namespace.js'

// The keeper of the rack's namespace and how this process names paths inside it.
export interface RackFs {
  keeper: NamespaceKeeper
  fsDir: string // DIR/fs (inside the namespace)
  nsView: (p: string) => string // a namespace path as this process reaches it
  layer: (name: string) => string // a layer's directory (inside the namespace)
}

// Layers and host trees live on a tmpfs mounted inside the rack's namespace (DIR/fs there, an
// empty directory outside): RAM-speed writes, and nothing to delete when the namespace goes.
export async function startRackFs(dir: string): Promise<RackFs> {
  const fsDir = path.join(dir, 'fs')
  fs.mkdirSync(fsDir, { recursive: true })
  const keeper = NamespaceKeeper.start()
  try {
    const r = await keeper.run([['tmpfs', fsDir, 'mode=755']])
    if (r.errors.length) throw new Error(`sim: cannot mount the rack's tmpfs: ${r.errors[0]}`)
  } catch (e) {
    await keeper.stop()
    throw e
  }
  return { keeper, fsDir, nsView: (p) => `/proc/${keeper.pid}/root${p}`, layer: (name) => path.join(fsDir, 'layers', name) }
}
