import { nonEmptyLines } from '../shell.js'
import { defineFact } from './define.js'

export interface LoadedModule {
  sizeBytes: number
  usedBy: string[]
}

// Loaded modules from /proc/modules (what lsmod formats): `name size refcount deps state offset`.
export const kernelModules = defineFact({
  name: 'kernel.modules',
  command: 'cat /proc/modules',
  parse(stdout): Record<string, LoadedModule> {
    const modules: Record<string, LoadedModule> = {}
    for (const line of nonEmptyLines(stdout)) {
      const [name, size, , deps] = line.split(/\s+/)
      if (!name) continue
      modules[name] = { sizeBytes: Number(size), usedBy: deps && deps !== '-' ? deps.split(',').filter(Boolean) : [] }
    }
    return modules
  },
})
