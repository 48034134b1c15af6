// ssh_config ProxyCommand: the connection's bytes go through a local command's stdin/stdout, run
// as ssh runs it (`$SHELL -c "exec COMMAND"`, else /bin/sh). Its stderr is dropped: it would tear
// a live terminal view.
import { spawn } from 'node:child_process'
import { Duplex } from 'node:stream'

export function proxyCommandStream(command: string): Duplex {
  const shell = process.env.SHELL || '/bin/sh'
  const child = spawn(shell, ['-c', `exec ${command}`], { stdio: ['pipe', 'pipe', 'ignore'] })
  const stream = Duplex.from({ readable: child.stdout, writable: child.stdin })
  child.once('error', (error) => stream.destroy(error))
  // Closing the connection ends the command too (ssh kills its proxy command on exit).
  stream.once('close', () => child.exitCode === null && child.kill('SIGTERM'))
  return stream
}
