// Every command gpufleet runs on a host starts with `umask 077`: a file a step script creates
// (backups, records, markers, the lock owner, temp files) is readable by root only, whatever the
// host's or sudo's umask. Files meant to be world-readable are written with an explicit mode
// (write steps say '0644'; `cp -p` keeps the original's), never by relying on the umask.
export function withRemoteUmask(command: string): string {
  return `umask 077\n${command}`
}
