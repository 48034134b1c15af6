// The session requests a simulated host's sshd serves: env, pty, window-change, signal, exec,
// shell and the sftp subsystem.
import type { Connection, ServerChannel, Session } from 'ssh2'

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

// What the host does for a session.
export interface SessionHandlers {
  // `command` null: a login shell (`pty`: one was requested).
  run(stream: ServerChannel, command: string | null, env: Record<string, string>, pty: boolean): void
  sftp(stream: ServerChannel, env: Record<string, string>): void
  signal(session: Session, name: string): void
}

export function serveSessions(client: Connection, handlers: SessionHandlers): void {
  client.on('session', (acceptSession) => {
    const session = acceptSession()
    const env: Record<string, string> = {}
    let pty = false
    session.on('env', (accept, _reject, info) => {
      if (ENV_NAME.test(info.key)) env[info.key] = info.val
      accept?.()
    })
    session.on('pty', (accept) => {
      pty = true
      accept?.()
    })
    session.on('window-change', (accept) => accept?.())
    session.on('signal', (accept, _reject, info) => {
      accept?.()
      handlers.signal(session, info.name)
    })
    session.on('exec', (accept, _reject, info) => {
      const stream = accept()
      handlers.run(stream, info.command, env, false)
    })
    session.on('shell', (accept) => {
      const stream = accept()
      handlers.run(stream, null, env, pty)
    })
    session.on('subsystem', (accept, reject, info) => {
      if (info.name !== 'sftp') return reject()
      const stream = accept()
      handlers.sftp(stream, env)
    })
  })
}
