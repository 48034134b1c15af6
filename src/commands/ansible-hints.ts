// What to say when someone types an Ansible flag gpufleet does not have (muscle memory from
// ansible-playbook): the gpufleet way to get the same, or why there is none.
const HINTS: Record<string, string> = {
  '--key-file': 'gpufleet calls it --private-key',
  '--inventory-file': 'gpufleet calls it -i/--inventory',
  '-k': 'gpufleet logs in with SSH keys (ssh-agent, --private-key, ansible_ssh_private_key_file), never a login password',
  '--ask-pass': 'gpufleet logs in with SSH keys (ssh-agent, --private-key, ansible_ssh_private_key_file), never a login password',
  '-s': "Ansible's old --sudo is -b/--become",
  '--sudo': "Ansible's old --sudo is -b/--become",
  '--ask-sudo-pass': "Ansible's old --ask-sudo-pass is -K/--ask-become-pass",
  '--become-user': 'gpufleet becomes root; set ansible_become_user in the inventory for another user',
  '--become-method': 'gpufleet becomes root with sudo (the only method it supports)',
  '-t': 'gpufleet playbooks have no tags: write a playbook with only the tasks you want (gpufleet schema --tasks lists them)',
  '--tags': 'gpufleet playbooks have no tags: write a playbook with only the tasks you want (gpufleet schema --tasks lists them)',
  '--skip-tags': 'gpufleet playbooks have no tags: write a playbook with only the tasks you want (gpufleet schema --tasks lists them)',
  '--start-at-task': 'not needed: a task that is already done is a no-op, so a re-run continues where the last one stopped',
  '--step': 'use gpufleet plan (or --check --diff) to see every change first',
  '--syntax-check': 'gpufleet plan <playbook> --list-hosts checks the playbook and inventory without connecting',
  '--list-tasks': 'gpufleet schema --tasks lists the tasks; a playbook lists its own',
  '-c': 'set ansible_connection (ssh or local) in the inventory',
  '--connection': 'set ansible_connection (ssh or local) in the inventory',
  '-T': 'gpufleet facts has --connect-timeout; ~/.ssh/config ConnectTimeout applies to every command',
  '--timeout': 'gpufleet facts has --connect-timeout; ~/.ssh/config ConnectTimeout applies to every command',
  '--ssh-common-args': 'set ansible_ssh_common_args in the inventory, or use ~/.ssh/config',
  '--ssh-extra-args': 'set ansible_ssh_extra_args in the inventory, or use ~/.ssh/config',
}

// Commander's error text with a hint line added when the unknown option is a known Ansible one.
export function withAnsibleHint(errorText: string): string {
  const m = /unknown option '([^']+)'/.exec(errorText)
  const flag = m?.[1]?.split('=')[0]
  const hint = flag ? HINTS[flag] : undefined
  if (!hint) return errorText
  return `${errorText.replace(/\n$/, '')}\nhint: ${flag} is an ansible-playbook option: ${hint}\n`
}
