// Small pure helpers shared by the evidence checks (no I/O).
import ssri from 'ssri'
import { DEFAULT_REGISTRY } from '../config/load.js'

/** Accept header for abbreviated ("corgi") packuments: they carry `dist`. */
export const CORGI_ACCEPT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'

/** npm's default registry: the one the config loader reads from npm's own definitions. */
export function npmDefaultRegistry (): string {
  return DEFAULT_REGISTRY
}

/** A registry URL with exactly one trailing slash. */
export function withSlash (url: string): string {
  return url.replace(/\/+$/, '') + '/'
}

/** `https://Host:443/path/` -> `host/path` (for comparing registry URLs). */
export function registryKey (url: string): string {
  try {
    const u = new URL(url)
    const port = u.port && !((u.protocol === 'https:' && u.port === '443') || (u.protocol === 'http:' && u.port === '80'))
      ? `:${u.port}`
      : ''
    return `${u.hostname.toLowerCase()}${port}${u.pathname.replace(/\/+$/, '')}`
  } catch {
    return url.replace(/\/+$/, '').toLowerCase()
  }
}

/** Whether `url` is the public npm registry (npm's default `registry`). */
export function isPublicNpmRegistry (url: string): boolean {
  return registryKey(url) === registryKey(npmDefaultRegistry())
}

/** The name as it appears in registry URLs: `@scope/name` -> `@scope%2fname` (as npm-package-arg does). */
export function escapedName (name: string): string {
  return name.replace('/', '%2f')
}

/** The package URL npm signs in attestation subjects: `pkg:npm/%40scope/name@1.0.0`. */
export function npmPurl (name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, '%40')}@${version}`
}

/** The sha512 part of an SRI string, as the registry writes it (`sha512-<base64>`). */
export function sha512Integrity (integrity: string | undefined): string | undefined {
  if (!integrity) return undefined
  try {
    const parsed = ssri.parse(integrity) as unknown as Record<string, { digest: string }[] | undefined>
    const first = parsed.sha512?.[0]
    return first ? `sha512-${first.digest}` : undefined
  } catch {
    return undefined
  }
}

/** Hex of the sha512 digest of an SRI string (the form in in-toto subjects). */
export function sha512Hex (integrity: string | undefined): string | undefined {
  const sri = sha512Integrity(integrity)
  if (!sri) return undefined
  return Buffer.from(sri.slice('sha512-'.length), 'base64').toString('hex')
}

/**
 * Whether a package name is in a policy list of names or scopes. Entries are
 * exact names, `@scope/*` or `@scope` (every package of the scope), or `*`.
 */
export function matchesNameList (name: string, list: readonly string[]): boolean {
  for (const raw of list) {
    const entry = raw.trim()
    if (!entry) continue
    if (entry === '*' || entry === name) return true
    if (entry.startsWith('@')) {
      const scope = entry.endsWith('/*') ? entry.slice(0, -2) : entry.includes('/') ? undefined : entry
      if (scope && name.startsWith(`${scope}/`)) return true
    }
  }
  return false
}

/**
 * Whether a mode with a `...RequireFor` list requires the package: `require`
 * with an empty list means every package; a non-empty list narrows `require`
 * to the names listed, and also makes those names required under the
 * intermediate mode (`verify`/`report`). A mode of `off` never requires.
 */
export function isRequired (mode: string, requireFor: readonly string[], name: string): boolean {
  if (mode === 'off') return false
  if (requireFor.length === 0) return mode === 'require'
  return matchesNameList(name, requireFor)
}

/** Races a promise against a timer; the timer never keeps the process alive. */
export function withTimeout<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEDOUT' })), ms)
    timer.unref?.()
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export function errorMessage (err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause
    return cause instanceof Error && cause.message && !err.message.includes(cause.message)
      ? `${err.message}: ${cause.message}`
      : err.message
  }
  return String(err)
}

/** `name@version` for messages and Violation.package. */
export function spec (name: string, version: string): string {
  return `${name}@${version}`
}

/** A reason with its URLs reduced to their host, so per-package reasons group in one note. */
export function groupReason (reason: string | undefined): string {
  return (reason ?? 'unknown reason').replace(/https?:\/\/([^/\s]+)\/\S*/g, '$1')
}
