// Ansible templates inventory values with Jinja2. gpufleet evaluates only the simplest and most
// common form, `{{ name }}` (e.g. ansible_host: "{{ inventory_hostname }}.mgmt"), and refuses
// anything else rather than connecting somewhere wrong.

// Thrown for a template gpufleet cannot evaluate; the caller adds the var's file:line.
export class TemplateError extends Error {}

// True if `value` contains Jinja2 markup.
export function isTemplated(value: string): boolean {
  return value.includes('{{') || value.includes('{%') || value.includes('{#')
}

// Replace each `{{ name }}` with lookup(name), itself rendered, up to a small depth.
export function renderTemplate(value: string, lookup: (name: string) => unknown, depth = 0): string {
  if (!isTemplated(value)) return value
  if (depth > 10) throw new TemplateError(`template '${value}' refers to itself`)
  if (/\{%|\{#/.test(value)) throw new TemplateError(`Jinja2 statements are not supported in '${value}'; only {{ variable }}`)
  return value.replace(/\{\{(.*?)\}\}/g, (_, expression: string) => {
    const name = expression.trim()
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TemplateError(`cannot evaluate '{{${expression}}}': gpufleet supports only {{ variable }}, not filters or expressions`)
    }
    const found = lookup(name)
    if (found === undefined) throw new TemplateError(`'{{${expression}}}' refers to undefined variable '${name}'`)
    if (typeof found !== 'string' && typeof found !== 'number' && typeof found !== 'boolean') {
      throw new TemplateError(`'{{${expression}}}' refers to '${name}', which is not a string or number`)
    }
    return renderTemplate(String(found), lookup, depth + 1)
  })
}
