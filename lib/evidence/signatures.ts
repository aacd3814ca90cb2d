// Registry signatures (SCVS 4.12): the registry signs
// `${name}@${version}:${integrity}` with an ECDSA P-256 key. We verify it
// against the LOCKFILE's integrity, so a signature proves the registry
// vouched for exactly the bytes we install.
import { verify as cryptoVerify } from 'node:crypto'
import type { CheckContext, EvidenceCheck } from './check.js'
import type { Policy } from '../options.js'
import type { SignatureOutcome, VerifiedPackage, Violation } from '../types.js'
import { isSupportedKey, keysFor, publicKeyObject, type RegistryKey, type RegistryKeySet } from './keys.js'
import type { EvidenceRun } from './run.js'
import { errorMessage, groupReason, registryKey, sha512Integrity, spec } from './util.js'

export interface RegistrySignature {
  readonly keyid: string
  readonly sig: string
}

export interface VerifySignatureInput {
  readonly name: string
  readonly version: string
  /** the lockfile's integrity (its sha512 is what must have been signed) */
  readonly integrity: string
  /** `dist.signatures` of the version document */
  readonly signatures: readonly RegistrySignature[] | undefined
  /** the registry's keys (a bare list, or the set with its source) */
  readonly keys: readonly RegistryKey[] | RegistryKeySet
  /** the version's publish time (packument `time[version]`); needed only for expired keys */
  readonly publishedAt?: string | Date
  /** defaults to now */
  readonly now?: Date
}

/** Packages published before npm recorded `time` (npm/pacote uses the same cutoff). */
export const MISSING_TIME_CUTOFF = '2015-01-01T00:00:00.000Z'

const toTime = (d: string | Date | undefined): number => d === undefined ? NaN : d instanceof Date ? d.getTime() : Date.parse(d)

/**
 * Verifies the registry signatures of one version. Pure: no I/O.
 * - verified: one signature by a known, unexpired (at publish time) key verifies
 * - invalid: a known key's signature fails (or only an expired key signed) and none verifies
 * - missing: the registry has keys but the version has no signature (by a key it publishes)
 * - not-checked: no keys, no sha512 integrity, or the publish time needed for an expired key is unknown
 */
export function verifyRegistrySignature (input: VerifySignatureInput): SignatureOutcome {
  const set = Array.isArray(input.keys) ? undefined : input.keys as RegistryKeySet
  const allKeys: readonly RegistryKey[] = set ? set.keys : input.keys as readonly RegistryKey[]
  const keySource = set?.source
  const keys = keysFor(allKeys, 'npm:signatures')
  const sri = sha512Integrity(input.integrity)
  if (!keys.length) {
    return { status: 'not-checked', reason: set?.reason ?? 'the registry publishes no signing keys' }
  }
  if (!sri) {
    return { status: 'not-checked', reason: 'the lockfile has no sha512 integrity, which is what the registry signs', keySource }
  }
  const sigs = (Array.isArray(input.signatures) ? input.signatures : [])
    .filter(s => s && typeof s.keyid === 'string' && typeof s.sig === 'string')
  if (!sigs.length) {
    return { status: 'missing', reason: 'the registry publishes signing keys but this version has no signature', keySource }
  }

  const message = Buffer.from(`${input.name}@${input.version}:${sri}`)
  const now = (input.now ?? new Date()).getTime()
  const published = toTime(input.publishedAt)
  const failed: string[] = []
  const expired: string[] = []
  const timeUnknown: string[] = []
  const unknown: string[] = []

  for (const sig of sigs) {
    const candidates = keys.filter(k => k.keyid === sig.keyid && isSupportedKey(k))
    if (!candidates.length) {
      unknown.push(sig.keyid)
      continue
    }
    for (const key of candidates) {
      const keyObject = publicKeyObject(key)
      let ok = false
      try {
        ok = !!keyObject && cryptoVerify('sha256', message, keyObject, Buffer.from(sig.sig, 'base64'))
      } catch {
        ok = false
      }
      if (!ok) {
        failed.push(key.keyid)
        continue
      }
      if (key.expires) {
        const expires = Date.parse(key.expires)
        if (!Number.isNaN(expires)) {
          if (Number.isNaN(published)) {
            // without a publish time the key counts only if it has not expired yet
            if (expires <= now) {
              timeUnknown.push(`${key.keyid} (expired ${key.expires})`)
              continue
            }
          } else if (published >= expires) {
            expired.push(`${key.keyid} (expired ${key.expires}, version published ${new Date(published).toISOString()})`)
            continue
          }
        }
      }
      return { status: 'verified', keyid: key.keyid, keySource }
    }
  }

  if (failed.length) {
    return {
      status: 'invalid',
      keyid: failed[0],
      reason: `the signature by key ${failed[0]} does not verify for ${input.name}@${input.version}:${sri}`,
      keySource,
    }
  }
  if (expired.length) {
    return {
      status: 'invalid',
      reason: `signed only by a key that had expired when the version was published: ${expired.join(', ')}`,
      keySource,
    }
  }
  if (timeUnknown.length) {
    return {
      status: 'not-checked',
      reason: `signed by a key that has since expired (${timeUnknown.join(', ')}) and the publish time is unknown`,
      keySource,
    }
  }
  if (keySource === 'embedded') {
    return {
      status: 'not-checked',
      reason: `signed by key(s) ${unknown.join(', ')}, which the offline copy of the registry keys does not contain`,
      keySource,
    }
  }
  return {
    status: 'missing',
    reason: `no signature by a key the registry publishes (signed by unknown key(s) ${unknown.join(', ')})`,
    keySource,
  }
}

/** Turns a signature outcome into violations under the policy. */
export function signatureViolations (outcome: SignatureOutcome, pkg: VerifiedPackage, policy: Pick<Policy, 'signatures'>, registry: string): Violation[] {
  if (policy.signatures === 'off') return []
  const id = spec(pkg.entry.name, pkg.entry.version)
  const base = { package: id, path: pkg.entry.location }
  switch (outcome.status) {
    case 'invalid':
      return [{
        ...base,
        code: 'ESISIGINVALID',
        message: `${id}: registry signature does not verify against the lockfile integrity: ${outcome.reason}`,
        fix: 'Do not install this version. Compare the lockfile integrity with the registry\'s ' +
          `(npm view ${id} dist.integrity); if they differ the lockfile or the package was tampered with.`,
      }]
    case 'missing':
      return [{
        ...base,
        code: 'ESISIGMISSING',
        message: `${id}: no registry signature although ${registryKey(registry)} publishes signing keys` +
          (outcome.reason?.startsWith('no signature by') ? ` (${outcome.reason})` : ''),
        fix: 'A registry or proxy may have rewritten the package metadata. Install from a registry that keeps ' +
          'signatures, set `signaturesRegistry`, or use `--signatures=off` to accept unsigned packages.',
      }]
    case 'not-checked':
      return policy.signatures === 'require'
        ? [{
            ...base,
            code: 'ESISIGUNCHECKED',
            message: `${id}: registry signature could not be checked: ${outcome.reason}`,
            fix: 'Use a registry that publishes signing keys, set `signaturesRegistry` to one that does, ' +
              'or relax `signatures` to `verify`.',
          }]
        : []
    default:
      return []
  }
}

/** facts kind: verified signatures by `<registry> <sha512 integrity>` */
export const SIG_FACT = 'sig-v2'

/**
 * Whether a cached verdict still holds: the key that verified it is still
 * listed for signatures, with the same expiry as when it was verified (a
 * registry revokes a key by moving its expiry). Pure.
 */
export function stillTrusted (keyid: string | undefined, keyExpires: string | null | undefined, keys: readonly RegistryKey[]): boolean {
  if (!keyid) return false
  return keysFor(keys, 'npm:signatures').some(k => k.keyid === keyid && (k.expires ?? null) === (keyExpires ?? null))
}

interface SigFact {
  readonly name: string
  readonly version: string
  readonly outcome: SignatureOutcome
  /** the verifying key's expiry when it verified (null: none) */
  readonly keyExpires?: string | null
}

/** The registry signature of one package: cached fact, or keys + version document + crypto. */
export async function signatureFor (pkg: VerifiedPackage, ctx: CheckContext, run: EvidenceRun): Promise<{ outcome: SignatureOutcome, registry: string, fromCache?: boolean }> {
  const { name, version } = pkg.entry
  const registry = run.evidenceRegistry(pkg, ctx)
  if (pkg.entry.source !== 'registry') {
    return { outcome: { status: 'not-checked', reason: `not from a registry (${pkg.entry.source})` }, registry }
  }
  const sri = sha512Integrity(pkg.integrity)
  // a verdict is cached per registry and integrity, and reused only while the
  // key that verified it is still one of the registry's keys and unexpired
  const factKey = sri ? `${registryKey(registry)} ${sri}` : undefined
  const fact = factKey ? await ctx.facts.get<SigFact>(SIG_FACT, factKey).catch(() => undefined) : undefined
  const keySet = await run.keys(ctx).get(registry, ctx)
  if (fact && fact.name === name && fact.version === version && fact.outcome?.status === 'verified' &&
    stillTrusted(fact.outcome.keyid, fact.keyExpires, keySet.keys)) {
    return { outcome: { ...fact.outcome, keySource: keySet.source ?? fact.outcome.keySource }, registry, fromCache: true }
  }
  if (!keysFor(keySet.keys, 'npm:signatures').length) {
    return { outcome: { status: 'not-checked', reason: keySet.reason ?? 'the registry publishes no signing keys' }, registry }
  }
  const { doc, error } = await run.versionDoc(pkg, ctx)
  if (!doc) return { outcome: { status: 'not-checked', reason: error, keySource: keySet.source }, registry }
  const signatures = doc.dist?.signatures as RegistrySignature[] | undefined

  // the publish time matters only when a signing key has expired by now
  const now = run.now()
  let publishedAt: string | undefined
  const needsTime = (signatures ?? []).some(s => keySet.keys.some(k =>
    k.keyid === s?.keyid && k.expires && Date.parse(k.expires) <= now.getTime()))
  if (needsTime) {
    try {
      const packument = await ctx.fullPackument(name, registry)
      if (packument) publishedAt = packument.time?.[version] ?? MISSING_TIME_CUTOFF
    } catch {}
  }

  let outcome = verifyRegistrySignature({ name, version, integrity: pkg.integrity, signatures, keys: keySet, publishedAt, now })
  if (outcome.status === 'missing' && keySet.servedByRegistry === false) {
    // keys known only from the offline copy, and the registry serves none:
    // it strips signing evidence, so absence proves nothing either way
    outcome = {
      status: 'not-checked',
      keySource: keySet.source,
      reason: 'the registry serves neither signing keys nor signatures (a mirror or proxy that strips them?)',
    }
  }
  if (outcome.status === 'invalid' && doc.dist?.integrity && sha512Integrity(doc.dist.integrity) !== sri) {
    outcome = { ...outcome, reason: `${outcome.reason} (the registry's integrity ${doc.dist.integrity} differs from the lockfile's)` }
  }
  if (outcome.status === 'verified' && factKey) {
    const keyExpires = keySet.keys.find(k => k.keyid === outcome.keyid)?.expires ?? null
    await ctx.facts.set(SIG_FACT, factKey, { name, version, outcome, keyExpires } satisfies SigFact).catch(() => {})
  }
  return { outcome, registry }
}

/**
 * The `signatures` check: verifies every registry package's signature;
 * packages of registries without keys are counted in one RunNote.
 */
export function signaturesCheck (run: EvidenceRun): EvidenceCheck {
  // registry -> reason -> count, for the closing note
  const unchecked = new Map<string, Map<string, number>>()
  return {
    name: 'signatures',
    // a verdict stands only while the registry's keys are the same (provenance's
    // "absent" rather than "not checked" rests on the same keys, see noAttestations)
    inputs: (pkgs, ctx) => run.keysFingerprint(pkgs, ctx),
    async check (pkg, ctx) {
      if (ctx.options.policy.signatures === 'off') return {}
      let result: Awaited<ReturnType<typeof signatureFor>>
      try {
        result = await signatureFor(pkg, ctx, run)
      } catch (err) {
        result = { outcome: { status: 'not-checked', reason: errorMessage(err) }, registry: pkg.registry }
      }
      const { outcome, registry } = result
      if (outcome.status === 'not-checked' && pkg.entry.source === 'registry') {
        const reasons = unchecked.get(registry) ?? new Map<string, number>()
        const reason = groupReason(outcome.reason)
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
        unchecked.set(registry, reasons)
      }
      const violations = pkg.entry.source === 'registry'
        ? signatureViolations(outcome, pkg, ctx.options.policy, registry)
        : []
      return { evidence: { signature: outcome }, violations }
    },
    async finish (_pkgs, ctx) {
      for (const [registry, reasons] of unchecked) {
        const total = [...reasons.values()].reduce((a, b) => a + b, 0)
        const why = [...reasons].map(([reason, n]) => reasons.size > 1 ? `${n}: ${reason}` : reason).join('; ')
        ctx.note({
          check: 'signatures',
          level: 'warning',
          message: `${total} package${total === 1 ? '' : 's'} from ${registryKey(registry)} could not be checked ` +
            `for registry signatures: ${why}.`,
        })
      }
      unchecked.clear()
      return {}
    },
  }
}
