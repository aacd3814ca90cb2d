// The provenance check: for each registry package, its attestations are
// fetched (or a verified outcome taken from the facts cache) and verified in
// the run's pool of threads (provenance-pool.ts) by provenance.ts's
// verifyAttestations. This module loads no Sigstore library: a run that
// verifies no bundle (a warm or replayed one) never loads them.
import type { CheckContext, EvidenceCheck } from './check.js'
import type { Policy } from '../options.js'
import type { ProvenanceOutcome, VerifiedPackage, Violation } from '../types.js'
import type { ProvenancePool } from './provenance-pool.js'
import type { EvidenceRun } from './run.js'
import { errorMessage, escapedName, groupReason, isRequired, registryKey, sha512Integrity, spec } from './util.js'

interface ProvFact {
  readonly name: string
  readonly version: string
  readonly outcome: ProvenanceOutcome
}

/** The attestations URL, as npm builds it: `<registry>-/npm/v1/attestations/<escaped name>@<version>`. */
export function attestationsUrl (registry: string, name: string, version: string): string {
  return `${registry}-/npm/v1/attestations/${escapedName(name)}@${version}`
}

/**
 * A version whose document advertises no attestations: `absent`, unless the
 * registry is known to serve no signing evidence at all (no keys: a mirror
 * or proxy that strips `dist.signatures`/`dist.attestations`), where the
 * absence proves nothing and the outcome is `not-checked`. The registry's
 * keys are the ones the signatures check (which runs first) loaded for this
 * run; with signatures off nothing is known and no keys are fetched for this.
 */
async function noAttestations (ctx: CheckContext, run: EvidenceRun, registry: string): Promise<ProvenanceOutcome> {
  const host = registryKey(registry)
  const absent: ProvenanceOutcome = { status: 'absent', reason: `${host} advertises no attestations for this version` }
  if (ctx.options.policy.signatures === 'off') return absent
  const keySet = await run.keys(ctx).get(registry, ctx)
  if (keySet.servedByRegistry !== false && keySet.keys.length > 0) return absent
  const unknown = keySet.servedByRegistry !== false && keySet.reason?.includes('could not be fetched')
  const why = unknown ? groupReason(keySet.reason) : `${host} serves no signing keys`
  return {
    status: 'not-checked',
    reason: `${why}, so a missing attestation proves nothing (a mirror or proxy that strips signing evidence? ` +
      '`signaturesRegistry` can name a registry that serves it)',
  }
}

async function computeProvenance (pkg: VerifiedPackage, ctx: CheckContext, run: EvidenceRun): Promise<ProvenanceOutcome> {
  const { name, version } = pkg.entry
  if (pkg.entry.source !== 'registry') return { status: 'not-checked', reason: `not from a registry (${pkg.entry.source})` }
  const sri = sha512Integrity(pkg.integrity)
  if (!sri) return { status: 'not-checked', reason: 'the lockfile has no sha512 integrity' }
  const fact = await ctx.facts.get<ProvFact>('prov', sri).catch(() => undefined)
  if (fact && fact.name === name && fact.version === version && fact.outcome?.status === 'verified') return fact.outcome

  const { doc, registry, error } = await run.versionDoc(pkg, ctx)
  if (!doc) return { status: 'not-checked', reason: error }
  if (!doc.dist?.attestations) return noAttestations(ctx, run, registry)

  const url = attestationsUrl(registry, name, version)
  let response: unknown
  try {
    // a verified outcome is kept as a fact: caching the response too would only add writes
    response = await ctx.fetchJson(url, { httpCache: false })
  } catch (err) {
    return { status: 'not-checked', reason: `${url} could not be fetched (${errorMessage(err)})` }
  }
  if (response === undefined) return { status: 'not-checked', reason: `attestations are advertised but ${url} answered 404` }

  const [root, keySet] = await Promise.all([run.trustedRoot(ctx), run.keys(ctx).get(registry, ctx)])
  if (!root.root) return { status: 'not-checked', reason: root.reason }
  const outcome = await (await poolFor(run)).verify({
    name,
    version,
    integrity: pkg.integrity,
    attestations: response,
    trustedRoot: root.root,
    trustedRootSource: root.source,
    keys: keySet.keys,
  })
  if (outcome.status === 'verified') {
    await ctx.facts.set('prov', sri, { name, version, outcome } satisfies ProvFact).catch(() => {})
  }
  return outcome
}

// One pool of verification threads per run, started by its first bundle and
// closed when the provenance check finishes.
const pools = new WeakMap<EvidenceRun, ProvenancePool>()

async function poolFor (run: EvidenceRun): Promise<ProvenancePool> {
  let pool = pools.get(run)
  if (!pool) {
    const { ProvenancePool } = await import('./provenance-pool.js')
    pool = pools.get(run) ?? new ProvenancePool()
    pools.set(run, pool)
  }
  return pool
}

/** The run's pool, if a bundle has needed verifying (for tests). */
export function provenancePoolOf (run: EvidenceRun): ProvenancePool | undefined {
  return pools.get(run)
}

/** Ends the run's verification threads, if any were started. */
export async function closeProvenancePool (run: EvidenceRun): Promise<void> {
  await pools.get(run)?.close()
}

/** The provenance of a package, computed at most once per run (shared by the provenance and identity checks). */
export function provenanceFor (pkg: VerifiedPackage, ctx: CheckContext, run: EvidenceRun): Promise<ProvenanceOutcome> {
  return run.memo('provenance', `${pkg.entry.location}\0${pkg.integrity}`, () =>
    computeProvenance(pkg, ctx, run).catch(err => ({ status: 'not-checked' as const, reason: errorMessage(err) })))
}

export function provenanceViolations (outcome: ProvenanceOutcome, pkg: VerifiedPackage, policy: Pick<Policy, 'provenance' | 'provenanceRequireFor'>): Violation[] {
  if (policy.provenance === 'off') return []
  const id = spec(pkg.entry.name, pkg.entry.version)
  const base = { package: id, path: pkg.entry.location }
  if (outcome.status === 'invalid') {
    return [{
      ...base,
      code: 'ESIPROVINVALID',
      message: `${id}: provenance does not verify: ${outcome.reason}`,
      fix: 'Do not install this version: its attestations do not match the package in the lockfile.',
    }]
  }
  if ((outcome.status === 'absent' || outcome.status === 'not-checked') &&
    isRequired(policy.provenance, policy.provenanceRequireFor, pkg.entry.name)) {
    return [{
      ...base,
      code: 'ESIPROVMISSING',
      message: outcome.status === 'absent'
        ? `${id}: provenance is required but the version has none`
        : `${id}: provenance is required but could not be checked: ${outcome.reason}`,
      fix: outcome.status === 'absent'
        ? 'Pick a version published with provenance, or remove the package from `provenanceRequireFor`.'
        : 'Use a registry that serves attestations (see `signaturesRegistry`), or relax `provenance`.',
    }]
  }
  return []
}

/** The `provenance` check. */
export function provenanceCheck (run: EvidenceRun): EvidenceCheck {
  const unchecked = new Map<string, number>()
  return {
    name: 'provenance',
    async check (pkg, ctx) {
      if (ctx.options.policy.provenance === 'off') return {}
      const outcome = await provenanceFor(pkg, ctx, run)
      if (outcome.status === 'not-checked' && pkg.entry.source === 'registry') {
        const reason = groupReason(outcome.reason)
        unchecked.set(reason, (unchecked.get(reason) ?? 0) + 1)
      }
      const required = isRequired(ctx.options.policy.provenance, ctx.options.policy.provenanceRequireFor, pkg.entry.name)
      if (pkg.entry.source !== 'registry' && !required) return {}
      return { evidence: { provenance: outcome }, violations: provenanceViolations(outcome, pkg, ctx.options.policy) }
    },
    async finish (_pkgs, ctx) {
      if (unchecked.size) {
        const total = [...unchecked.values()].reduce((a, b) => a + b, 0)
        ctx.note({
          check: 'provenance',
          level: 'warning',
          message: `${total} package${total === 1 ? '' : 's'} could not be checked for provenance: ` +
            [...unchecked].map(([reason, n]) => unchecked.size > 1 ? `${n}: ${reason}` : reason).join('; ') + '.',
        })
      }
      unchecked.clear()
      await closeProvenancePool(run)
      return {}
    },
  }
}
