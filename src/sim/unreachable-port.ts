// The ports of an `unreachable` host: nothing listening, or a listener that never answers.
import net from 'node:net'

// A port that is allocated and closed again: connecting gets ECONNREFUSED.
export async function reserveClosedPort(address: string): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve, reject) => s.listen(0, address, resolve).once('error', reject))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

// Accepts TCP and never says a word: the client's handshake times out.
export async function listenBlackhole(address: string): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(() => undefined)
  await new Promise<void>((resolve, reject) => server.listen(0, address, resolve).once('error', reject))
  return { server, port: (server.address() as net.AddressInfo).port }
}
