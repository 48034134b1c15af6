import fs from 'node:fs'

// A file's text, or undefined when it cannot be read (missing, a directory…).
export const readOptional = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}
