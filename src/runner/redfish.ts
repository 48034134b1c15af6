import { readFileSync } from 'node:fs'
import https from 'node:https'
import { FleetError } from '../errors.js'
import type { BmcConfig } from './bmc-config.js'

// A minimal Redfish client for OpenBMC: find the system, read its PowerState, power-cycle it
// (ComputerSystem.Reset ForceRestart). TLS is always verified (against --bmc-ca-file when given,
// else the system CAs); basic auth with the password read from its file per request. Messages
// never contain the password or the Authorization header.

export class RedfishError extends FleetError {}

export interface RedfishClient {
  url: string
  systemPath(): Promise<string> // '/redfish/v1/Systems/<id>'
  powerState(systemPath: string): Promise<string>
  forceRestart(systemPath: string): Promise<void>
}

export function redfishClient(config: BmcConfig, caFile: string | undefined, timeoutMs = 15_000): RedfishClient {
  const ca = caFile ? readFileSync(caFile) : undefined
  const request = (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
    let password: string
    try {
      password = readFileSync(config.passwordFile, 'utf8').replace(/\r?\n$/, '')
    } catch (error) {
      return Promise.reject(new RedfishError(`BMC ${config.url}: cannot read password_file ${config.passwordFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`))
    }
    const payload = body === undefined ? undefined : JSON.stringify(body)
    return new Promise((resolve, reject) => {
      const req = https.request(
        new URL(path, config.url),
        {
          method,
          ...(ca ? { ca } : {}),
          rejectUnauthorized: true,
          timeout: timeoutMs,
          headers: {
            authorization: `Basic ${Buffer.from(`${config.user}:${password}`).toString('base64')}`,
            accept: 'application/json',
            ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
          },
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => (text += c))
          res.on('end', () => {
            let json: unknown
            try {
              json = text ? JSON.parse(text) : undefined
            } catch {
              json = undefined
            }
            resolve({ status: res.statusCode ?? 0, json })
          })
        },
      )
      req.on('timeout', () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)}s`)))
      req.on('error', (error: NodeJS.ErrnoException) => reject(new RedfishError(`BMC ${config.url}: ${method} ${path}: ${error.code && !error.message.includes(error.code) ? `${error.code}: ` : ''}${error.message}`)))
      req.end(payload)
    })
  }
  const check = (r: { status: number; json: unknown }, what: string) => {
    if (r.status === 401 || r.status === 403) throw new RedfishError(`BMC ${config.url}: ${what}: HTTP ${r.status}: credentials of user '${config.user}' refused (password_file ${config.passwordFile})`)
    if (r.status < 200 || r.status >= 300) {
      const message = (r.json as { error?: { message?: string } } | undefined)?.error?.message
      throw new RedfishError(`BMC ${config.url}: ${what}: HTTP ${r.status}${message ? `: ${message}` : ''}`)
    }
  }
  return {
    url: config.url,
    async systemPath() {
      const r = await request('GET', '/redfish/v1/Systems')
      check(r, 'GET /redfish/v1/Systems')
      const members = (r.json as { Members?: Array<{ '@odata.id'?: string }> } | undefined)?.Members ?? []
      const id = members[0]?.['@odata.id']
      if (!id || members.length !== 1) throw new RedfishError(`BMC ${config.url}: expected one system under /redfish/v1/Systems, found ${members.length}`)
      return id
    },
    async powerState(systemPath) {
      const r = await request('GET', systemPath)
      check(r, `GET ${systemPath}`)
      const state = (r.json as { PowerState?: unknown } | undefined)?.PowerState
      if (typeof state !== 'string') throw new RedfishError(`BMC ${config.url}: ${systemPath} has no PowerState`)
      return state
    },
    async forceRestart(systemPath) {
      const action = `${systemPath}/Actions/ComputerSystem.Reset`
      const r = await request('POST', action, { ResetType: 'ForceRestart' })
      check(r, `POST ${action} ForceRestart`)
    },
  }
}
