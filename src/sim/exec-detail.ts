// What the simulator records of an exec: short commands whole; a long one by its head, except the
// changes gpufleet batches into one exec (`@@gpufleet-step@@` parts), which are recorded up to the
// confirming fact read, so tests can count each step a host really ran ("no step applied twice")
// without the record growing by a whole gather script per exec.
const HEAD = 200
const MAX_CHANGE = 64 * 1024

export function execDetail(command: string): string {
  if (command.length <= HEAD) return command
  if (!command.startsWith("echo '@@gpufleet-step@@ begin 0'")) return command.slice(0, HEAD) + '…'
  const confirm = command.indexOf("echo '@@gpufleet-confirm@@'")
  const steps = confirm >= 0 ? command.slice(0, confirm) : command
  return steps.length > MAX_CHANGE ? steps.slice(0, MAX_CHANGE) + '…' : steps
}
