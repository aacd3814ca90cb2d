// The scan as an evidence check: every verified tarball is scanned once (the
// result is an immutable fact of its integrity), before anything is
// installed. It informs; it never refuses a package.
import type { CheckContext, EvidenceCheck, FactCache } from '../check.js'
import type { ScanResult, VerifiedPackage } from '../../types.js'
import { scanPackage } from './capabilities.js'

export { scanPackage, scanPackageWithStats, newScanTiming, MAX_PARSE_BYTES, UNPARSED } from './capabilities.js'
export type { ScanInput, ScanStats, ScanTiming } from './capabilities.js'
export { capabilitiesGained } from './gained.js'
export type { CapabilitiesGained } from './gained.js'
export { CAPABILITIES, MAX_EXAMPLES } from './findings.js'
export type { Capability } from './findings.js'

/** fact-cache kind; bump the version when the scan's rules change */
export const SCAN_FACT_KIND = 'scan-v1'

/** scans in progress or done in this run, per fact cache (same integrity at two locations) */
const inFlight = new WeakMap<FactCache, Map<string, Promise<ScanResult>>>()

function isScanResult (v: unknown): v is ScanResult {
  return typeof v === 'object' && v !== null &&
    Array.isArray((v as ScanResult).capabilities) && Array.isArray((v as ScanResult).findings)
}

async function scanOnce (pkg: VerifiedPackage, facts: FactCache): Promise<ScanResult> {
  const cached = await facts.get<ScanResult>(SCAN_FACT_KIND, pkg.integrity)
  if (isScanResult(cached)) return cached
  const scan = scanPackage(pkg)
  await facts.set(SCAN_FACT_KIND, pkg.integrity, scan)
  return scan
}

export const scanCheck: EvidenceCheck = {
  name: 'scan',
  readsContents: true,
  async check (pkg: VerifiedPackage, ctx: CheckContext) {
    if (ctx.options.policy.scan === false) return {}
    let runs = inFlight.get(ctx.facts)
    if (runs === undefined) inFlight.set(ctx.facts, runs = new Map())
    let scan = runs.get(pkg.integrity)
    if (scan === undefined) {
      scan = scanOnce(pkg, ctx.facts)
      runs.set(pkg.integrity, scan)
      // a failed attempt is not remembered
      scan.catch(() => runs!.delete(pkg.integrity))
    }
    try {
      return { evidence: { scan: await scan } }
    } catch (err) {
      // the scan informs and never refuses: a failure to scan is said, not fatal
      ctx.note({
        check: 'scan',
        level: 'warning',
        message: `capability scan of ${pkg.entry.name}@${pkg.entry.version} failed: ${(err as Error)?.message ?? err}`,
      })
      return {}
    }
  },
}
