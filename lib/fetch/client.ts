// The one place that talks HTTP: npm-registry-fetch with npm's flattened
// config (auth per registry, ca/cafile, proxies, retries, timeouts).
import crypto from 'node:crypto'
import dns from 'node:dns'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import http from 'node:http'
import https from 'node:https'
import tls from 'node:tls'
import zlib from 'node:zlib'
import { createRequire } from 'node:module'
import { writeCacheFile } from '../cache-file.js'
import { SafeInstallError } from '../errors.js'
import type { Options } from '../options.js'
import { redactUrl } from '../policy/transport.js'

const require = createRequire(import.meta.url)
// loaded on first use: the no-op path only POSTs the advisory query (postJson)
let registryFetch: any
const npmFetch = (): any => (registryFetch ??= require('npm-registry-fetch'))

export const CORGI = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'

export class RegistryClient {
  private readonly base: Record<string, any>
  /** no proxy and no client certificates: one agent for the run, a plain POST for the advisory query */
  private readonly direct: boolean
  private agent: unknown
  constructor (private readonly options: Options) {
    const flat = options.npmFlat
    this.base = {
      ...fetchOptions(flat),
      // TLS can never be turned off from here (transport policy refused it anyway)
      strictSSL: true,
      offline: options.offline,
      preferOffline: options.preferOffline,
      ...caAsOneString(flat),
    }
    this.direct = !proxied(this.base) && !clientCerts(this.base)
  }

  /** The options with the run's one connection agent, made on first use. */
  private agentBase (): Record<string, any> {
    if (this.agent === undefined) this.agent = this.direct ? sharedAgent(this.base) : null
    return this.agent ? { ...this.base, agent: this.agent } : this.base
  }

  /** JSON GET; undefined on 404. Uses npm's HTTP cache for packuments. */
  async json (url: string, opts: { accept?: string, spec?: string, cache?: boolean, fresh?: boolean } = {}): Promise<any | undefined> {
    // asked fresh on every run (a registry's keys): online, without a proxy,
    // one plain request, whose answer is kept for --offline and
    // --prefer-offline (npm's HTTP cache never sees it); npm's fetch stack
    // (retries, redirects, its cache) when that does not answer
    if (opts.fresh) {
      const kept = keptAnswerPath(this.options.cache, url)
      if (this.base.offline || this.base.preferOffline) {
        const doc = await readFile(kept, 'utf8').then(JSON.parse, () => undefined)
        if (doc !== undefined) return doc
      } else if (this.direct) {
        // directJson answers a 404 with undefined
        const answer = await directJson('GET', url, undefined, this.base, opts.accept).then(doc => ({ doc }), err => {
          const e = err as any
          if (e.statusCode >= 400 && e.statusCode < 500) throw fetchError(err, url, opts.spec)
          return undefined // network errors, 5xx and redirects: npm's way below
        })
        if (answer) {
          if (answer.doc !== undefined) await writeCacheFile(kept, answer.doc)
          return answer.doc
        }
      }
    }
    try {
      return await npmFetch().json(url, {
        ...this.agentBase(),
        ...(opts.cache === false ? { cache: undefined, cachePath: undefined } : {}),
        headers: { ...(this.base.headers ?? {}), accept: opts.accept ?? 'application/json' },
        spec: opts.spec,
        registry: registryOf(url),
      })
    } catch (err) {
      const e = err as any
      if (e.statusCode === 404 || e.code === 'E404') return undefined
      throw fetchError(err, url, opts.spec)
    }
  }

  async postJson (url: string, body: unknown): Promise<any | undefined> {
    try {
      if (this.direct) return await directJson('POST', url, body, this.base)
      return await npmFetch().json(url, {
        ...this.agentBase(),
        method: 'POST',
        body,
        gzip: true,
        cache: undefined,
        registry: registryOf(url),
      })
    } catch (err) {
      const e = err as any
      if (e.statusCode === 404 || e.code === 'E404') return undefined
      throw fetchError(err, url)
    }
  }

  /** Tarball bytes, not through npm's HTTP cache (the verified store keeps them). */
  async tarball (url: string, spec: string): Promise<Buffer> {
    try {
      const res = await npmFetch()(url, {
        ...this.agentBase(),
        cache: undefined,
        cachePath: undefined,
        spec,
        registry: registryOf(url),
        headers: { ...(this.base.headers ?? {}), accept: '*/*' },
      })
      let buf: Buffer
      try {
        buf = await res.buffer()
      } catch (err) {
        // the body broke off after the headers: retryable, never installable
        throw Object.assign(new Error(`response cut short: ${(err as Error).message}`), { code: 'ESHORTBODY' })
      }
      const expected = Number(res.headers.get('content-length'))
      if (Number.isFinite(expected) && expected > 0 && buf.length !== expected && !res.headers.get('content-encoding')) {
        throw Object.assign(new Error(`response cut short: ${buf.length} of ${expected} bytes`), { code: 'ESHORTBODY' })
      }
      return buf
    } catch (err) {
      const e = err as any
      if (e.code === 'ESHORTBODY') throw err
      if (e.statusCode === 404 || e.code === 'E404') {
        throw new SafeInstallError('ESINOTFOUND', `the registry has no tarball for ${spec} at ${redactUrl(url)}`, { package: spec, fix: 'check that the version exists on the configured registry' })
      }
      throw fetchError(err, url, spec)
    }
  }
}

/**
 * What npm-registry-fetch, make-fetch-happen and @npmcli/agent read of npm's
 * flat config, plus every credential (`//host/:_authToken` ...) and scope
 * registry key. Each request copies its options several times over: the
 * whole flat config (130-odd keys) made that a measurable share of a cold run.
 */
const FETCH_KEYS = ['_auth', 'authType', 'ca', 'cache', 'cert', 'key', 'retry', 'fetchRetries', 'fetchRetryFactor',
  'fetchRetryMintimeout', 'fetchRetryMaxtimeout', 'forceAuth', 'httpsProxy', 'proxy', 'noProxy', 'localAddress',
  'maxSockets', 'timeout', 'offline', 'preferOffline', 'preferOnline', 'otp', 'password', 'username', 'token',
  'registry', 'scope', 'projectScope', 'strictSSL', 'userAgent', 'npmSession', 'npmCommand', 'isFromCI', 'dns', 'family']

export function fetchOptions (flat: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {}
  for (const k of FETCH_KEYS) if (flat[k] !== undefined) out[k] = flat[k]
  for (const k of Object.keys(flat)) if (k.startsWith('//') || /^@[^:]+:registry$/i.test(k)) out[k] = flat[k]
  return out
}

/**
 * The CAs of `cafile`/`ca` as one PEM string instead of npm's array of them.
 * Node's https agent names its connection pools by appending every TLS
 * option to a string on every request (and @npmcli/agent keys its agents the
 * same way): an array is joined each time, a string is appended as is. With
 * a system bundle as cafile (144 certificates here) the array cost about 1 ms
 * of CPU and a copy of the bundle per call: seconds per thousand requests.
 * The same certificates are trusted either way.
 */
export function caAsOneString (flat: Record<string, any>): Record<string, any> {
  return Array.isArray(flat.ca) ? { ca: flat.ca.join('\n') } : {}
}

/**
 * One connection agent for the run, made by @npmcli/agent from the options
 * make-fetch-happen would give it. Without it, every request rebuilds
 * @npmcli/agent's cache key, which holds the whole CA bundle, and looks it up
 * in its LRU cache: hashing the bundle once per request (3 s of CPU on the
 * large project cold). Not used when client certificates or a proxy are
 * configured: those can differ per registry or host, so the default
 * per-request choice stays.
 */
function sharedAgent (base: Record<string, any>): unknown {
  const { getAgent } = require('@npmcli/agent')
  return getAgent(base.registry ?? 'https://localhost/', {
    ca: base.ca,
    // the agent passes its options on to tls.connect, which uses this context instead of building one from `ca`
    secureContext: secureContextFor(base.ca),
    localAddress: base.localAddress,
    maxSockets: base.maxSockets,
    noProxy: base.noProxy,
    timeout: base.timeout || 30 * 1000,
    rejectUnauthorized: true,
    dns: { ttl: 5 * 60 * 1000, lookup: dns.lookup },
  })
}

let context: { ca: unknown, context: tls.SecureContext | undefined } | undefined

/**
 * One TLS context for the run's certificate authorities. Given only `ca`,
 * every connection builds its own, parsing each certificate of the bundle
 * again: with a system bundle as `cafile` (144 certificates here), 45 ms of
 * CPU per connection. The same certificates, the same verification. Without
 * a configured `ca`, Node's default context is used as before.
 */
function secureContextFor (ca: unknown): tls.SecureContext | undefined {
  if (ca === undefined || ca === null) return undefined
  if (context?.ca !== ca) context = { ca, context: tls.createSecureContext({ ca: ca as string | string[] }) }
  return context.context
}

function proxied (base: Record<string, any>): boolean {
  const env = process.env
  return Boolean(base.httpsProxy || base.proxy || env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy)
}

function clientCerts (base: Record<string, any>): boolean {
  return Boolean(base.cert || base.key || Object.keys(base).some(k => k.startsWith('//') && /:(certfile|keyfile)$/.test(k)))
}

/**
 * The advisory query (a POST) and uncached GETs (a registry's keys) as
 * npm-registry-fetch sends them (its own credential lookup, its headers, a
 * POST body gzipped, no retry for a POST), over one https request. The no-op
 * path and a replayed ci make only these requests: loading
 * npm-registry-fetch, make-fetch-happen and cacache for them cost more than
 * the requests. Only used without a proxy or client certificates.
 */
async function directJson (method: 'GET' | 'POST', url: string, body: unknown, base: Record<string, any>, accept?: string): Promise<any | undefined> {
  const getAuth = require('npm-registry-fetch/lib/auth.js')
  const auth = getAuth(url, { ...base, registry: registryOf(url) })
  const headers: Record<string, string> = method === 'POST'
    ? { 'user-agent': base.userAgent ?? 'safe-install', 'content-type': 'application/json', 'content-encoding': 'gzip' }
    : { 'user-agent': base.userAgent ?? 'safe-install', accept: accept ?? 'application/json', 'accept-encoding': 'gzip' }
  if (base.authType) headers['npm-auth-type'] = base.authType
  if (base.scope) headers['npm-scope'] = base.scope
  if (base.npmSession) headers['npm-session'] = base.npmSession
  if (base.npmCommand) headers['npm-command'] = base.npmCommand
  if (auth.token) headers.authorization = `Bearer ${auth.token}`
  else if (auth.auth) headers.authorization = `Basic ${auth.auth}`
  if (base.otp) headers['npm-otp'] = base.otp
  const payload = method === 'POST' ? zlib.gzipSync(JSON.stringify(body)) : undefined
  const { status, data } = await new Promise<{ status: number, data: Buffer }>((resolve, reject) => {
    // https.request hands its options to tls.connect: secureContext included
    const options: https.RequestOptions & Pick<tls.ConnectionOptions, 'secureContext'> = {
      method,
      headers: payload ? { ...headers, 'content-length': String(payload.length) } : headers,
      ca: base.ca,
      secureContext: secureContextFor(base.ca),
      rejectUnauthorized: true,
      localAddress: base.localAddress,
      timeout: base.timeout || 30 * 1000,
    }
    const req = https.request(url, options, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const raw = Buffer.concat(chunks)
        try {
          const enc = String(res.headers['content-encoding'] ?? '')
          resolve({ status: res.statusCode ?? 0, data: enc === 'gzip' ? zlib.gunzipSync(raw) : enc === 'br' ? zlib.brotliDecompressSync(raw) : raw })
        } catch (err) {
          reject(err)
        }
      })
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error(`timed out after ${base.timeout || 30000} ms`), { code: 'ETIMEDOUT' })))
    req.on('error', reject)
    req.end(payload)
  })
  if (status === 404) return undefined
  if (status >= 300 || status < 200) {
    throw Object.assign(new Error(`${status} ${http.STATUS_CODES[status] ?? ''} - ${method} ${redactUrl(url)}`), { statusCode: status, code: `E${status}` })
  }
  return JSON.parse(data.toString('utf8'))
}

/** Where the last answer of a `fresh` GET is kept: `<cache>/_safe-install/fresh/<sha256 of the URL>.json`. */
export function keptAnswerPath (cache: string, url: string): string {
  return path.join(cache, '_safe-install', 'fresh', `${crypto.createHash('sha256').update(url).digest('hex')}.json`)
}

/** npm-registry-fetch picks credentials by the registry option; use the URL's own origin+path root. */
function registryOf (url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}/`
  } catch {
    return url
  }
}

export function fetchError (err: unknown, url: string, spec?: string): SafeInstallError {
  const e = err as any
  if (e instanceof SafeInstallError) return e
  if (e.code === 'ENOTCACHED') {
    return new SafeInstallError('ESIOFFLINE', `${spec ?? redactUrl(url)} is not in the cache and --offline forbids the network`, {
      package: spec,
      fix: 'run once online, or drop --offline',
    })
  }
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|DEPTH_ZERO/.test(String(e.code ?? e.message))
  // an HTTP status says it all (npm's message repeats the URL); otherwise keep the cause
  const what = e.statusCode
    ? `answered HTTP ${e.statusCode}`
    : `failed (${e.code ?? 'error'}${tls ? ': certificate not trusted' : ''}): ${String(e.message).split('\n')[0]}`
  return new SafeInstallError('ESIFETCH', `${spec ? spec + ': ' : ''}${redactUrl(url)} ${what}`, {
    package: spec,
    fix: tls
      ? 'if your registry uses a private CA, set cafile=<path to its PEM> in .npmrc'
      : 'check the registry and your network; transient errors were retried per fetch-retries',
    cause: err,
  })
}
