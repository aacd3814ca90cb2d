// Registry signing keys (SCVS 4.12). Parsing is pure; loading goes through
// the Sigstore TUF repository (public registry only) or the registry's
// `/-/npm/v1/keys` endpoint, once per registry per run.
import { createPublicKey, type KeyObject } from 'node:crypto'
import type { CheckContext } from './check.js'
import type { Options } from '../options.js'
import type { SigstoreTargets } from './tuf.js'
import { errorMessage, isPublicNpmRegistry, registryKey, withSlash } from './util.js'

export type KeyUsage = 'npm:signatures' | 'npm:attestations'
export type KeySource = 'tuf' | 'keys-endpoint' | 'embedded'

/** One registry key, in npm's `/-/npm/v1/keys` shape (plus what TUF adds). */
export interface RegistryKey {
  readonly keyid: string
  /** e.g. `ecdsa-sha2-nistp256` */
  readonly keytype: string
  readonly scheme: string
  /** base64 DER SubjectPublicKeyInfo */
  readonly key: string
  /** ISO date after which the key no longer counts; null = no expiry */
  readonly expires: string | null
  /** ISO date before which the key did not count (TUF keys only) */
  readonly validFrom?: string
  /** what the key may verify (TUF keys only; npm's endpoint keys serve both) */
  readonly usage?: KeyUsage
}

export interface RegistryKeySet {
  /** registry base URL (trailing slash) */
  readonly registry: string
  readonly keys: readonly RegistryKey[]
  /** undefined when the registry offers no keys */
  readonly source?: KeySource
  /** why there are no keys, or why the source is a fallback */
  readonly reason?: string
  /** the registry's own keys endpoint served keys (false: it strips signing evidence) */
  readonly servedByRegistry?: boolean
}

const ECDSA_P256 = 'ecdsa-sha2-nistp256'

/** Parses npm's keys document: `{ keys: [{ keyid, keytype, scheme, key, expires }] }`. Invalid entries are dropped. */
export function parseNpmKeys (doc: unknown): RegistryKey[] {
  const list = (doc as { keys?: unknown } | undefined)?.keys
  if (!Array.isArray(list)) return []
  const out: RegistryKey[] = []
  for (const k of list) {
    if (!k || typeof k !== 'object') continue
    const { keyid, keytype, scheme, key, expires } = k as Record<string, unknown>
    if (typeof keyid !== 'string' || !keyid || typeof key !== 'string' || !key) continue
    out.push({
      keyid,
      keytype: typeof keytype === 'string' ? keytype : ECDSA_P256,
      scheme: typeof scheme === 'string' ? scheme : ECDSA_P256,
      key,
      expires: typeof expires === 'string' && expires ? expires : null,
    })
  }
  return out
}

/**
 * Parses the Sigstore TUF target `<registry host>/keys.json`:
 * `{ keys: [{ keyId, keyUsage, publicKey: { rawBytes, keyDetails, validFor: { start, end } } }] }`.
 */
export function parseTufKeys (doc: unknown): RegistryKey[] {
  const list = (doc as { keys?: unknown } | undefined)?.keys
  if (!Array.isArray(list)) return []
  const out: RegistryKey[] = []
  for (const k of list) {
    if (!k || typeof k !== 'object') continue
    const { keyId, keyUsage, publicKey } = k as Record<string, any>
    const rawBytes = publicKey?.rawBytes
    if (typeof keyId !== 'string' || !keyId || typeof rawBytes !== 'string' || !rawBytes) continue
    const details = String(publicKey?.keyDetails ?? '')
    out.push({
      keyid: keyId,
      keytype: details === 'PKIX_ECDSA_P256_SHA_256' ? ECDSA_P256 : details,
      scheme: details === 'PKIX_ECDSA_P256_SHA_256' ? ECDSA_P256 : details,
      key: rawBytes,
      expires: typeof publicKey?.validFor?.end === 'string' ? publicKey.validFor.end : null,
      validFrom: typeof publicKey?.validFor?.start === 'string' ? publicKey.validFor.start : undefined,
      usage: keyUsage === 'npm:signatures' || keyUsage === 'npm:attestations' ? keyUsage : undefined,
    })
  }
  return out
}

/** Keys usable for a purpose (keys without a stated usage serve both). */
export function keysFor (keys: readonly RegistryKey[], usage: KeyUsage): RegistryKey[] {
  return keys.filter(k => k.usage === undefined || k.usage === usage)
}

/** Whether this implementation can verify with the key (ECDSA P-256 / SHA-256 only). */
export function isSupportedKey (key: RegistryKey): boolean {
  return key.keytype === ECDSA_P256 || key.scheme === ECDSA_P256
}

const keyObjects = new Map<string, KeyObject | null>()
/** The key as a KeyObject (memoized); null if the bytes are not a public key. */
export function publicKeyObject (key: RegistryKey): KeyObject | null {
  let found = keyObjects.get(key.key)
  if (found === undefined) {
    try {
      found = createPublicKey({ key: Buffer.from(key.key, 'base64'), format: 'der', type: 'spki' })
    } catch {
      found = null
    }
    keyObjects.set(key.key, found)
  }
  return found
}

/** The TUF target name npm uses for a registry's keys: `<host><path>/keys.json`. */
export function tufKeysTarget (registry: string): string {
  return `${registryKey(registry)}/keys.json`
}

/**
 * The keys targets a run's signature checks will ask TUF for, known from the
 * options alone (loadRegistryKeys asks it for the public registry only): a
 * run can start asking before it has a plan.
 */
export function tufKeysTargetsOf (options: Pick<Options, 'registry' | 'scopedRegistries' | 'policy'>): string[] {
  if (options.policy.signatures === 'off') return []
  const registries = [options.policy.signaturesRegistry ?? options.registry, ...Object.values(options.scopedRegistries)]
  return [...new Set(registries.filter(isPublicNpmRegistry).map(tufKeysTarget))]
}

export interface KeyLoaderDeps {
  readonly tuf: SigstoreTargets
}

/**
 * Loads the keys of a registry: the public npm registry from the Sigstore
 * TUF repository (falling back to the copy embedded in @sigstore/tuf), any
 * other registry from its `/-/npm/v1/keys` endpoint (404 or empty: no keys).
 * Never throws; the reason is in the result.
 */
export async function loadRegistryKeys (registry: string, ctx: Pick<CheckContext, 'fetchJson'>, deps: KeyLoaderDeps): Promise<RegistryKeySet> {
  registry = withSlash(registry)
  if (isPublicNpmRegistry(registry)) {
    const target = await deps.tuf.target(tufKeysTarget(registry))
    if (target) {
      let keys: RegistryKey[] = []
      try {
        keys = parseTufKeys(JSON.parse(target.text))
      } catch {}
      if (keys.length) {
        // With only the offline copy, ask the registry itself: one that
        // serves no keys (a mirror or proxy that strips them) cannot be
        // expected to serve signatures either.
        const served = target.source === 'embedded' ? (await fetchKeysEndpoint(registry, ctx)).keys.length > 0 : true
        return {
          registry,
          keys,
          source: target.source,
          servedByRegistry: served,
          reason: target.source === 'embedded'
            ? `the Sigstore TUF repository could not be used (${target.reason ?? 'unreachable'})`
            : undefined,
        }
      }
    }
    // not in TUF at all: fall through to the keys endpoint, as npm does
  }
  return fetchKeysEndpoint(registry, ctx)
}

async function fetchKeysEndpoint (registry: string, ctx: Pick<CheckContext, 'fetchJson'>): Promise<RegistryKeySet> {
  const url = `${registry}-/npm/v1/keys`
  try {
    const doc = await ctx.fetchJson(url, { fresh: true })
    if (doc === undefined) return { registry, keys: [], reason: `the registry publishes no signing keys (${url} answered 404)` }
    const keys = parseNpmKeys(doc)
    if (!keys.length) return { registry, keys: [], reason: `the registry publishes no signing keys (${url} lists none)` }
    return { registry, keys, source: 'keys-endpoint', servedByRegistry: true }
  } catch (err) {
    return { registry, keys: [], reason: `the registry's signing keys could not be fetched from ${url} (${errorMessage(err)})` }
  }
}

/**
 * A per-run memo of registry keys, with one RunNote when the keys of a
 * registry come from the offline copy.
 */
export class RegistryKeyStore {
  readonly #deps: KeyLoaderDeps
  readonly #sets = new Map<string, Promise<RegistryKeySet>>()

  constructor (deps: KeyLoaderDeps) {
    this.#deps = deps
  }

  get (registry: string, ctx: CheckContext): Promise<RegistryKeySet> {
    const id = registryKey(registry)
    let set = this.#sets.get(id)
    if (!set) {
      set = loadRegistryKeys(registry, ctx, this.#deps).then(result => {
        if (result.source === 'embedded') {
          ctx.note({
            check: 'signatures',
            level: 'warning',
            message: `Registry signing keys for ${result.registry} were taken from the offline copy ` +
              `shipped inside @sigstore/tuf, not fetched fresh: ${result.reason}. ` +
              'Keys the registry has added or revoked since that copy was made are not known to this run.',
          })
        }
        return result
      })
      this.#sets.set(id, set)
    }
    return set
  }
}
