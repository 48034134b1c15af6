// A host's BMC as OpenBMC's Redfish service answers it, on loopback over HTTPS (a certificate the
// rack's own CA signed) with basic auth: enough of /redfish/v1/Systems to read PowerState and to
// power-cycle the host (ComputerSystem.Reset ForceRestart).
import { timingSafeEqual } from 'node:crypto'
import https from 'node:https'
import type { AddressInfo } from 'node:net'

// What the endpoint needs from its host.
export interface BmcHost {
  name: string
  powerState(): 'On' | 'Off'
  forceRestart(): void
}

export interface BmcOptions {
  address: string
  user: string
  password: string
  key: string // PEM
  cert: string // PEM
  host: BmcHost
  record: (detail: string) => void // the simulator's own log
}

const SYSTEM = '/redfish/v1/Systems/system'
const RESET = `${SYSTEM}/Actions/ComputerSystem.Reset`

// A running endpoint.
export interface Bmc {
  url: string
  close(): Promise<void>
}

// Starts the endpoint on an ephemeral port of `address`.
export async function startBmc(o: BmcOptions): Promise<Bmc> {
  const expected = Buffer.from(`${o.user}:${o.password}`)
  const server = https.createServer({ key: o.key, cert: o.cert }, (req, res) => {
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'odata-version': '4.0', ...headers })
      res.end(body === undefined ? undefined : JSON.stringify(body))
    }
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '')
    const given = m ? Buffer.from(m[1]!, 'base64') : Buffer.alloc(0)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      o.record(`${req.method} ${req.url}: 401 (credentials refused)`)
      return send(401, redfishError('Base.1.8.1.InsufficientPrivilege', 'There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.'), { 'www-authenticate': 'Basic realm="OpenBMC"' })
    }
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const url = (req.url ?? '').replace(/\/$/, '')
      if (req.method === 'GET' && url === '/redfish/v1/Systems') return send(200, { '@odata.id': '/redfish/v1/Systems', Members: [{ '@odata.id': SYSTEM }], 'Members@odata.count': 1 })
      if (req.method === 'GET' && url === SYSTEM) {
        return send(200, {
          '@odata.id': SYSTEM,
          Id: 'system',
          Name: 'system',
          HostName: o.host.name,
          PowerState: o.host.powerState(),
          Actions: { '#ComputerSystem.Reset': { target: RESET, 'ResetType@Redfish.AllowableValues': ['ForceRestart', 'GracefulRestart', 'On', 'ForceOff'] } },
        })
      }
      if (req.method === 'POST' && url === RESET) {
        let type: unknown
        try {
          type = (JSON.parse(body) as { ResetType?: unknown }).ResetType
        } catch {
          return send(400, redfishError('Base.1.8.1.MalformedJSON', 'The request body submitted was malformed JSON and could not be parsed by the receiving service.'))
        }
        if (type !== 'ForceRestart') {
          o.record(`reset ${String(type)}: 400 (not simulated)`)
          return send(400, redfishError('Base.1.8.1.ActionParameterNotSupported', `The parameter ResetType for the action ComputerSystem.Reset is not supported on the target resource.`))
        }
        o.record('ComputerSystem.Reset ForceRestart')
        o.host.forceRestart()
        return send(204)
      }
      send(404, redfishError('Base.1.8.1.ResourceNotFound', `The requested resource of type Unknown named '${url}' was not found.`))
    })
  })
  await new Promise<void>((resolve, reject) => server.listen(0, o.address, resolve).once('error', reject))
  const port = (server.address() as AddressInfo).port
  return {
    url: `https://${o.address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function redfishError(id: string, message: string) {
  return { error: { code: id, message, '@Message.ExtendedInfo': [{ MessageId: id, Message: message }] } }
}
