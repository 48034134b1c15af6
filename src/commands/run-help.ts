// The long `--help` texts of `gpufleet run` and `plan` (help-text sections shown after the flags).

export const HYPERVISOR_HELP = `
Hypervisors (before a host reboots, inside its rolling slot):
  --drain refuse           (default) a host with running guests is NOT rebooted: it is reported
                           "needs drain" with the guests' names; its staged changes stay pending
  --drain shutdown         virsh shutdown (ACPI) each running guest, wait up to --drain-timeout
                           (default 5m), reboot, verify, then start exactly those guests again in
                           their previous order (autostart guests libvirt already started are left)
  --drain-force            a guest still running at the timeout is virsh destroy'ed (recorded in the
                           report); without it the host fails, is not rebooted, guests untouched
  Live migration is out of scope: guests with VFIO GPUs cannot be migrated.
  --reboot-blocker CMD     run CMD on the host before its reboot (repeatable; the playbook's
                           reboot_blockers run too); a non-zero exit holds the reboot: the host gives
                           its slot back and is re-checked with backoff, until
                           --reboot-blocker-timeout (default 1h), then it is reported "blocked".
                           e.g. '! squeue -h -w $(hostname) | grep -q .'  or  '! test -e /etc/maintenance'
  --bmc-recover            a host that does not come back within the reboot timeout is power-cycled
                           once through its BMC (Redfish ComputerSystem.Reset ForceRestart), from the
                           host var gpufleet_bmc: {url: https://..., user, password_file}; the BMC is
                           checked before the reboot. The password is read from its file, never shown.
  --bmc-ca-file FILE       CA bundle the BMCs' TLS certificates are verified against (default: system CAs)`

export const ROLL_HELP = `
Rolling (only the roll part of a playbook is limited; staging runs on every host at --forks):
  --max-unavailable N|N%   hosts down at once, fleet-wide (default 10%, at least 1)
  --per-rack N             hosts down at once per rack, i.e. failure domain (default: no cap)
  --rack-by var:<name>     a host's rack is that inventory var (default var:gpufleet_rack;
                           e.g. var:rack, var:datacenter_row)
  --rack-by group:<glob>   a host's rack is its group matching the glob (group:'rack_*'); a host
                           in two matching groups is an error
                           Hosts with no rack share ONE failure domain (never assumed apart); with
                           --per-rack, a warning names them. \`gpufleet inventory --rack-by\` shows racks.
  A slot is freed the moment a host is back and verified; the next host starts at once.
  --batches 1,5,20%        Ansible \`serial\`-style barriers instead (last value repeats)
  --max-fail N|N%          once failures EXCEED this, no new reboot starts (in-flight ones finish)
  --rack-fail-stop         a failure in a rack stops new reboots in that rack

Output: tty (default on a terminal) is a live per-host view with the rolling window; plain (default
when stdout is not a terminal, e.g. CI) prints one timestamped line per event; jsonl prints the
event stream, one JSON object per line. Every run also writes <run dir>/events.jsonl and reports.

Exit codes: 0 every host ok or changed (check mode: nothing would change); 1 a host failed, was
unreachable or was not started; 2 bad usage, inventory or playbook (nothing was touched);
3 check mode only: no host failed and at least one would change (a CI gate); 130 interrupted.

Reports (in the run directory, re-rendered by \`gpufleet report <run-id>\`): summary.md, junit.xml,
report.html (rack view and timeline), hosts/<host>.json, retry.txt (use as --limit @retry.txt).`

export const ANSIBLE_HELP = `
Ansible settings: a flag beats its ANSIBLE_* variable, which beats ansible.cfg (the first of
$ANSIBLE_CONFIG, ./ansible.cfg (ignored in a world-writable directory), ~/.ansible.cfg,
/etc/ansible/ansible.cfg):
  -i             ANSIBLE_INVENTORY           [defaults] inventory
  -f             ANSIBLE_FORKS               [defaults] forks
  -u             ANSIBLE_REMOTE_USER         [defaults] remote_user
  --private-key  ANSIBLE_PRIVATE_KEY_FILE    [defaults] private_key_file
  -b             ANSIBLE_BECOME              [privilege_escalation] become
                 ANSIBLE_HOST_KEY_CHECKING   [defaults] host_key_checking (False: record unknown keys)
As in Ansible, -u, --private-key, -b and host_key_checking fill in only what a host's inventory
vars leave unset, and -e vars beat every inventory var (ansible_user included).`
