// The evidence checks in force, in order, from the policy: publishing
// evidence first (signatures, provenance, identity, trust), then cooldown,
// the capability scan, and the bulk advisory query once all are in.
import type { EvidenceCheck } from './evidence/check.js'
import { advisoriesCheck } from './evidence/advisories.js'
import { evidenceChecks } from './evidence/index.js'
import { releaseAgeCheck } from './evidence/release-age.js'
import { scanCheck } from './evidence/scan/index.js'
import type { Options } from './options.js'

export function buildChecks (options: Options): EvidenceCheck[] {
  const p = options.policy
  const checks: EvidenceCheck[] = [...evidenceChecks(options)]
  if (p.minReleaseAgeDays > 0 || p.strictReleaseAge) checks.push(releaseAgeCheck)
  if (p.scan) checks.push(scanCheck)
  checks.push(advisoriesCheck)
  return checks
}
