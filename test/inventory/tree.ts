import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach } from 'vitest'

const made: string[] = []

// Write `files` (relative path -> content) under a fresh temp dir and return the dir.
// Content is dedented so inventories can be written inline with their real line numbers.
export async function writeTree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpufleet-inv-'))
  made.push(dir)
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true })
    await writeFile(join(dir, path), dedent(content))
  }
  return dir
}

// Strip the common indentation and one leading newline.
export function dedent(text: string): string {
  const body = text.replace(/^\n/, '')
  const indents = body
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => /^ */.exec(l)![0].length)
  const cut = indents.length > 0 ? Math.min(...indents) : 0
  return body
    .split('\n')
    .map((l) => l.slice(cut))
    .join('\n')
}

afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true })
})
