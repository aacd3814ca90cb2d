// Trust downgrade: a version published with weaker evidence than an earlier
// one (e.g. no provenance after a run of trusted-publisher releases) is the
// footprint of a stolen token. Ranking is pure; the check reads the full
// packument once per name.
import semver from 'semver'
import type { EvidenceCheck } from './check.js'
import type { Policy } from '../options.js'
import type { TrustLevel, TrustOutcome, VerifiedPackage, Violation } from '../types.js'
import type { EvidenceRun } from './run.js'
import { errorMessage, matchesNameList, spec } from './util.js'

const DAY_MS = 24 * 60 * 60 * 1000

export const TRUST_LEVEL_NAMES: Record<TrustLevel, string> = {
  3: 'trusted publisher with provenance',
  2: 'provenance',
  1: 'registry signature only',
  0: 'no signature or provenance',
}

/** The evidence level of one packument version document. Pure. */
export function trustLevelOf (doc: unknown): TrustLevel {
  const d = doc as { dist?: { attestations?: unknown, signatures?: unknown }, _npmUser?: { trustedPublisher?: unknown } } | undefined
  const provenance = !!d?.dist?.attestations && typeof d.dist.attestations === 'object'
  const trustedPublisher = !!d?._npmUser?.trustedPublisher
  if (provenance && trustedPublisher) return 3
  if (provenance) return 2
  if (Array.isArray(d?.dist?.signatures) && d.dist.signatures.length > 0) return 1
  return 0
}

export interface TrustAssessment extends TrustOutcome {
  /** publish time of the version, when the packument has it */
  readonly publishedAt?: string
}

/**
 * Ranks the evidence of `version` against every version published before it
 * (by packument `time`; prereleases only count for prerelease installs).
 * A downgrade is a lower level than the best earlier one. Pure.
 */
export function assessTrust (packument: any, version: string): TrustAssessment {
  const versions: Record<string, unknown> = packument?.versions ?? {}
  const time: Record<string, string> = packument?.time ?? {}
  const doc = versions[version]
  if (!doc) return { level: 0, downgrade: false, reason: `the packument has no version ${version}` }
  const level = trustLevelOf(doc)
  const publishedAt = typeof time[version] === 'string' ? time[version] : undefined
  const published = publishedAt ? Date.parse(publishedAt) : NaN
  if (Number.isNaN(published)) return { level, downgrade: false, reason: 'the publish time is unknown' }

  const installingPrerelease = !!semver.prerelease(version)
  let best: { version: string, level: TrustLevel, at: number } | undefined
  for (const [v, d] of Object.entries(versions)) {
    if (v === version) continue
    const at = typeof time[v] === 'string' ? Date.parse(time[v]) : NaN
    if (Number.isNaN(at) || at >= published) continue
    if (!installingPrerelease && semver.prerelease(v)) continue
    const l = trustLevelOf(d)
    if (!best || l > best.level || (l === best.level && at > best.at)) best = { version: v, level: l, at }
  }
  if (!best || best.level <= level) {
    return { level, downgrade: false, publishedAt, previous: best ? { version: best.version, level: best.level } : undefined }
  }
  return {
    level,
    downgrade: true,
    publishedAt,
    previous: { version: best.version, level: best.level },
    reason: `published with ${TRUST_LEVEL_NAMES[level]}, but ${best.version} (published earlier) had ${TRUST_LEVEL_NAMES[best.level]}`,
  }
}

/** Violations for a trust outcome: a warning, or an error under `no-downgrade` (unless excluded or old enough). */
export function trustViolations (
  outcome: TrustAssessment,
  pkg: VerifiedPackage,
  policy: Pick<Policy, 'trust' | 'trustExclude' | 'trustIgnoreAfterDays'>,
  now: Date,
): Violation[] {
  if (!outcome.downgrade) return []
  const { name, version } = pkg.entry
  const id = spec(name, version)
  const excluded = matchesNameList(name, policy.trustExclude)
  const published = outcome.publishedAt ? Date.parse(outcome.publishedAt) : NaN
  const ageDays = Number.isNaN(published) ? undefined : (now.getTime() - published) / DAY_MS
  const tooOld = policy.trustIgnoreAfterDays !== undefined && ageDays !== undefined && ageDays > policy.trustIgnoreAfterDays
  const refuse = policy.trust === 'no-downgrade' && !excluded && !tooOld
  const why = excluded
    ? ' (excluded by trustExclude)'
    : tooOld ? ` (published ${Math.floor(ageDays!)} days ago, beyond trustIgnoreAfterDays)` : ''
  return [{
    code: 'ESITRUSTDOWNGRADE',
    severity: refuse ? 'error' : 'warning',
    package: id,
    path: pkg.entry.location,
    message: `${id}: ${outcome.reason}${why}`,
    fix: 'Check with the maintainers how this version was published. To accept it, add the package to `trustExclude`.',
  }]
}

/**
 * The `trust` check: compares each registry package with the earlier
 * versions in its full packument (from the evidence registry).
 */
export function trustCheck (run: EvidenceRun): EvidenceCheck {
  return {
    name: 'trust',
    async check (pkg, ctx) {
      if (pkg.entry.source !== 'registry') return {}
      const registry = run.evidenceRegistry(pkg, ctx)
      let packument: any
      let failure: string | undefined
      try {
        packument = await ctx.fullPackument(pkg.entry.name, registry, pkg.entry.version)
        if (!packument) failure = `${registry} has no packument for ${pkg.entry.name}`
      } catch (err) {
        failure = `the packument could not be fetched (${errorMessage(err)})`
      }
      if (!packument) {
        const { doc } = await run.versionDoc(pkg, ctx)
        return { evidence: { trust: { level: trustLevelOf(doc), downgrade: false, reason: failure } } }
      }
      const assessment = assessTrust(packument, pkg.entry.version)
      const { publishedAt: _published, ...outcome } = assessment
      return {
        evidence: { trust: outcome satisfies TrustOutcome },
        violations: trustViolations(assessment, pkg, ctx.options.policy, run.now()),
      }
    },
  }
}

/** Whether the trust check runs: it compares signing evidence, so not when both signatures and provenance are off. */
export function trustSkipped (policy: Pick<Policy, 'signatures' | 'provenance'>): boolean {
  return policy.signatures === 'off' && policy.provenance === 'off'
}
