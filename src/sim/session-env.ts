// The environment sshd gives a session of `user` on a simulated host.
import type net from 'node:net'
import type { Connection } from 'ssh2'

const ROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/root/bin'
const USER_PATH = '/usr/local/bin:/usr/bin:/usr/local/sbin:/usr/sbin:/home/admin/.local/bin:/home/admin/bin'

// The client's socket under ssh2's Connection (not part of its typed API).
export function clientSocket(client: Connection | undefined): net.Socket | undefined {
  return (client as unknown as { _sock?: net.Socket } | undefined)?._sock
}

// `extra`: what the client sent with `env` requests (PATH, HOME, USER… always the host's own).
export function sessionEnv(user: string, extra: Record<string, string>, host: { address: string; port: number }, client?: Connection): Record<string, string> {
  const home = user === 'root' ? '/root' : `/home/${user}`
  const sock = clientSocket(client)
  const remote = sock ? `${sock.remoteAddress} ${sock.remotePort}` : '127.0.0.1 0'
  return {
    LANG: 'C.UTF-8',
    ...extra,
    PATH: user === 'root' ? ROOT_PATH : USER_PATH,
    HOME: home,
    USER: user,
    LOGNAME: user,
    SHELL: '/bin/bash',
    MAIL: `/var/spool/mail/${user}`,
    SSH_CLIENT: `${remote} ${host.port}`,
    SSH_CONNECTION: `${remote} ${host.address} ${host.port}`,
  }
}

// Drops a client at once (its socket), as a host going down does.
export function destroyConnection(c: Connection): void {
  const sock = clientSocket(c)
  if (sock) sock.destroy()
  else c.end()
}
