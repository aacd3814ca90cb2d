// SCVS 4.13: every fetched package is pinned by a sha512 integrity in the
// lockfile. Entries without one are refused unless the user opts in.
import type { Policy } from '../options.js'
import { isFetchedSource } from '../plan/classify.js'
import type { PlanEntry, Violation } from '../types.js'


export function hasSha512 (integrity: string | undefined): boolean {
  return Boolean(integrity && integrity.split(/\s+/).some(h => h.startsWith('sha512-')))
}

export function checkIntegrityPresence (entries: readonly PlanEntry[], policy: Policy): Violation[] {
  if (policy.allowMissingIntegrity) return []
  const out: Violation[] = []
  for (const entry of entries) {
    if (entry.bundled || !isFetchedSource(entry.source) || hasSha512(entry.integrity)) continue
    out.push({
      code: 'ESINOINTEGRITY',
      message: entry.integrity
        ? `${entry.name}@${entry.version} is pinned only by ${entry.integrity.split('-')[0]}, which is too weak`
        : `${entry.name}@${entry.version} has no integrity in the lockfile, so its bytes cannot be checked`,
      package: `${entry.name}@${entry.version}`,
      path: entry.location,
      fix: 'regenerate the lockfile entry (`safe-install install`), or accept it with --allow-missing-integrity',
    })
  }
  return out
}
