import { InventoryError } from '../errors.js'

// Where a value was written: every inventory error names it as "file:line".
export interface Origin {
  file: string
  line: number
  // Line of a nested value inside this one (path as zod reports it), when the format can tell.
  locate?: (path: ReadonlyArray<PropertyKey>) => number | undefined
}

// "file:line" for messages and InventoryHost.source.
export function formatOrigin(origin: Origin, path: ReadonlyArray<PropertyKey> = []): string {
  const line = (path.length > 0 && origin.locate?.(path)) || origin.line
  return `${origin.file}:${line}`
}

// An InventoryError whose message starts with "file:line: ".
export function inventoryError(origin: Origin, message: string, path: ReadonlyArray<PropertyKey> = []): InventoryError {
  return new InventoryError(`${formatOrigin(origin, path)}: ${message}`)
}
