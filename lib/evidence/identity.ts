// Identity (SCVS 4.3-4.5): does the repository the provenance was built from
// match the repository the package declares? Pure comparison plus a check
// that reuses the provenance result of the same run.
import type { EvidenceCheck } from './check.js'
import type { IdentityOutcome, ProvenanceOutcome, VerifiedPackage, Violation } from '../types.js'
import type { Policy } from '../options.js'
import type { EvidenceRun } from './run.js'
import { provenanceFor } from './provenance-check.js'
import { normalizeRepository, repositoryUrl } from './repository.js'
import { isRequired, spec } from './util.js'

export { normalizeRepository, repositoryUrl }

/** Compares the attested source repository with the declared one. Pure. */
export function compareIdentity (attested: string | undefined, declared: unknown): IdentityOutcome {
  const declaredUrl = repositoryUrl(declared)
  if (!attested) return { status: 'not-checked', declared: declaredUrl }
  if (!declaredUrl) return { status: 'no-repository', attested }
  const a = normalizeRepository(attested)
  const d = normalizeRepository(declaredUrl)
  return { status: a !== undefined && a === d ? 'match' : 'mismatch', declared: declaredUrl, attested }
}

/** The identity outcome for a package given its provenance outcome. */
export function identityFromProvenance (provenance: ProvenanceOutcome | undefined, manifest: Readonly<Record<string, any>>): IdentityOutcome {
  const attested = provenance?.status === 'verified' ? provenance.sourceRepository : undefined
  return compareIdentity(attested, manifest.repository)
}

export function identityViolations (outcome: IdentityOutcome, pkg: VerifiedPackage, policy: Pick<Policy, 'identity' | 'identityRequireFor'>): Violation[] {
  const id = spec(pkg.entry.name, pkg.entry.version)
  const required = isRequired(policy.identity, policy.identityRequireFor, pkg.entry.name)
  const base = { code: 'ESIIDENTITY', package: id, path: pkg.entry.location }
  if (outcome.status === 'mismatch') {
    return [{
      ...base,
      severity: required ? 'error' : 'warning',
      message: `${id}: built from ${outcome.attested} (provenance) but declares repository ${outcome.declared}`,
      fix: 'Check that the package comes from the project you expect. If the move is legitimate, ' +
        'exclude it from `identityRequireFor` or use `identity=report`.',
    }]
  }
  if (outcome.status === 'no-repository' && required) {
    return [{
      ...base,
      severity: 'error',
      message: `${id}: has provenance from ${outcome.attested} but declares no repository to compare it with`,
      fix: 'Remove the package from `identityRequireFor`, or use `identity=report`.',
    }]
  }
  return []
}

/**
 * The `identity` check: provenance repository vs manifest `repository`.
 * Packages without verified provenance are `not-checked` (requiring
 * provenance is the provenance policy's job).
 */
export function identityCheck (run: EvidenceRun): EvidenceCheck {
  return {
    name: 'identity',
    async check (pkg, ctx) {
      if (ctx.options.policy.provenance === 'off' || pkg.entry.source !== 'registry') return {}
      let provenance: ProvenanceOutcome | undefined
      try {
        provenance = await provenanceFor(pkg, ctx, run)
      } catch {
        provenance = undefined
      }
      const identity = identityFromProvenance(provenance, pkg.manifest)
      return { evidence: { identity }, violations: identityViolations(identity, pkg, ctx.options.policy) }
    },
  }
}
