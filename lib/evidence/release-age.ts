// Release-age cooldown check: every registry package of the lockfile must
// have been published at least `policy.minReleaseAgeDays` ago. The publish
// time comes from the full packument's `time[version]`.
import type { CheckContext, CheckResult, EvidenceCheck } from './check.js'
import type { VerifiedPackage, Violation } from '../types.js'
import { releaseAgeOutcome } from '../policy/release-age.js'

export const RELEASE_AGE_CHECK = 'release-age'

/** The fix text of a too-new version: the exact setting that exempts it. */
export function releaseAgeFix (name: string, availableAt?: string): string {
  const wait = availableAt ? `wait until ${availableAt}, or ` : ''
  return `${wait}add "${name}" to safeInstall.minReleaseAgeExclude in package.json, or --min-release-age-exclude ${name}`
}

export interface ReleaseAgeCheckOptions {
  /** clock, for tests */
  readonly now?: () => number
}

export function createReleaseAgeCheck (opts: ReleaseAgeCheckOptions = {}): EvidenceCheck {
  const now = opts.now ?? Date.now
  // per run: packages whose publish time could not be found (for one note)
  let unknown: string[] = []

  return {
    name: RELEASE_AGE_CHECK,

    async prepare () {
      unknown = []
    },

    async check (pkg: VerifiedPackage, ctx: CheckContext): Promise<CheckResult> {
      const { policy } = ctx.options
      const entry = pkg.entry
      const spec = `${entry.name}@${entry.version}`
      if (!(policy.minReleaseAgeDays > 0)) return { evidence: { releaseAge: { status: 'not-checked' } } }
      // bundled packages are never fetched alone (their parent's age covers them);
      // git/remote/file/directory sources have no registry publish time
      if (entry.bundled || entry.source !== 'registry') {
        return { evidence: { releaseAge: { status: 'not-checked' } } }
      }

      const base = { name: entry.name, now: now(), minReleaseAgeDays: policy.minReleaseAgeDays, exclude: policy.minReleaseAgeExclude }
      // an excluded package needs no network
      const pre = releaseAgeOutcome(base)
      if (pre.status === 'excluded') return { evidence: { releaseAge: pre } }

      let published: string | undefined
      let reason = 'the registry gave no publish time'
      try {
        const packument = await ctx.fullPackument(entry.name, pkg.registry, entry.version)
        if (!packument) reason = 'the registry has no packument for it'
        const t = packument?.time?.[entry.version]
        if (typeof t === 'string' && Number.isFinite(Date.parse(t))) published = t
      } catch (err) {
        reason = `the packument could not be fetched (${(err as Error)?.message ?? String(err)})`
      }

      const outcome = releaseAgeOutcome({ ...base, published })
      const { availableAt, ...releaseAge } = outcome
      const violations: Violation[] = []
      if (outcome.status === 'too-new') {
        violations.push({
          code: 'ESITOONEW',
          message: `${spec} was published ${outcome.published} (${outcome.ageDays} days ago), ` +
            `inside the ${policy.minReleaseAgeDays}-day release-age cooldown`,
          package: spec,
          path: entry.location,
          fix: releaseAgeFix(entry.name, availableAt),
        })
      } else if (outcome.status === 'unknown') {
        unknown.push(`${spec} (${reason})`)
        if (policy.strictReleaseAge) {
          violations.push({
            code: 'ESINOTIME',
            message: `publish time of ${spec} is unknown: ${reason}; strictReleaseAge refuses it`,
            package: spec,
            path: entry.location,
            fix: `${releaseAgeFix(entry.name)}; or turn off strictReleaseAge`,
          })
        }
      }
      return { evidence: { releaseAge }, violations }
    },

    // an age grows with the clock: only a verdict that cannot change by waiting is replayed
    refresh (evidence, pkg, ctx) {
      const prior = evidence.releaseAge
      if (!prior || prior.status === 'too-new') return 'rerun'
      if (prior.status !== 'ok' || !prior.published) return {}
      const { policy } = ctx.options
      const { availableAt, ...releaseAge } = releaseAgeOutcome({ name: pkg.entry.name, now: now(), minReleaseAgeDays: policy.minReleaseAgeDays, exclude: policy.minReleaseAgeExclude, published: prior.published })
      return releaseAge.status === 'ok' ? { releaseAge } : 'rerun'
    },

    async finish (_pkgs, ctx) {
      if (unknown.length) {
        const shown = unknown.slice(0, 5).join(', ') + (unknown.length > 5 ? `, and ${unknown.length - 5} more` : '')
        ctx.note({
          check: RELEASE_AGE_CHECK,
          level: 'warning',
          message: `release age unknown for ${unknown.length} package(s), cooldown not applied` +
            `${ctx.options.policy.strictReleaseAge ? ' (refused: strictReleaseAge)' : ''}: ${shown}`,
        })
      }
      unknown = []
      return {}
    },
  }
}

export const releaseAgeCheck: EvidenceCheck = createReleaseAgeCheck()
