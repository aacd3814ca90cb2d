// A `ci` of inputs already verified here (the same lockfile, package.json,
// policy and options: the noop key of lib/state.ts) with every package's
// files already in the verified store replays the earlier run's verdicts
// instead of recomputing them from the facts cache, package by package.
// What can change for the same packages is redone: the advisory query runs
// again, each registry's signing keys are loaded again and must be the ones
// the verdicts were reached with, a verdict that depends on the clock (a
// release-age cooldown not yet over) sends the run down the full path. The
// store entries are still checked file by file before they are linked.
import type { CheckContext, EvidenceCheck } from './evidence/check.js'
import { isFetchedSource } from './plan/source-kinds.js'
import type { PackageEvidence, Plan, RunNote, VerifiedPackage, Violation } from './types.js'
import type { SkippedScripts } from './pipeline.js'

export const REPLAY_VERSION = 1

/** What a full run leaves for a later replay (saved by lib/state.ts under the same key). */
export interface ReplayData {
  readonly v: number
  /** per fetched location: what the writer and the record need */
  readonly packages: Readonly<Record<string, { readonly integrity: string, readonly tarballUrl: string, readonly registry: string }>>
  /** per location, the evidence of every check that is not live */
  readonly evidence: Readonly<Record<string, PackageEvidence>>
  /** warnings of the lockfile policy and of the checks that are not live */
  readonly warnings: readonly Violation[]
  /** notes of the checks that are not live */
  readonly notes: readonly RunNote[]
  /** each check's run-wide inputs fingerprint (EvidenceCheck.inputs) */
  readonly inputs: Readonly<Record<string, string>>
  readonly scriptsSkipped: readonly SkippedScripts[]
}

export interface Replayed {
  readonly pkgs: VerifiedPackage[]
  readonly verified: Map<string, VerifiedPackage>
  readonly evidence: Map<string, PackageEvidence>
}

/** A verified package as far as a replay knows it: no bytes, no listing (nothing reads them after the checks). */
function replayedPackage (entry: Plan['entries'][number], p: ReplayData['packages'][string]): VerifiedPackage {
  return {
    entry,
    integrity: p.integrity,
    from: 'cache',
    tarballUrl: p.tarballUrl,
    registry: p.registry,
    manifest: {},
    files: [],
    readFile: () => undefined,
  }
}

export function isReplayData (x: any): x is ReplayData {
  return Boolean(x) && x.v === REPLAY_VERSION && typeof x.packages === 'object' && typeof x.evidence === 'object' &&
    Array.isArray(x.warnings) && Array.isArray(x.notes) && typeof x.inputs === 'object' && Array.isArray(x.scriptsSkipped)
}

/** Every package's fingerprints of the checks' run-wide inputs, as a full run records them. */
export async function checkInputs (checks: readonly EvidenceCheck[], pkgs: readonly VerifiedPackage[], ctx: CheckContext): Promise<Record<string, string>> {
  const quiet: CheckContext = { ...ctx, note: () => {} }
  const out: Record<string, string> = {}
  for (const c of checks) if (c.inputs) out[c.name] = await c.inputs(pkgs, quiet)
  return out
}

/**
 * The packages of this plan as the earlier run verified them, or undefined
 * when it did not verify one of them or the store no longer holds its files.
 */
export function replayPackages (prior: ReplayData, plan: Plan, held: (integrity: string) => boolean): VerifiedPackage[] | undefined {
  const fetched = plan.entries.filter(e => !e.bundled && isFetchedSource(e.source))
  if (fetched.length !== Object.keys(prior.packages).length) return undefined
  const pkgs: VerifiedPackage[] = []
  for (const entry of fetched) {
    const p = prior.packages[entry.location]
    if (!p || !prior.evidence[entry.location] || !held(p.integrity)) return undefined
    pkgs.push(replayedPackage(entry, p))
  }
  return pkgs
}

/**
 * The earlier run's verdicts for `pkgs` (from replayPackages), or undefined
 * when they cannot be replayed (a registry's keys changed, a verdict that
 * depends on the clock).
 */
export async function replayVerdicts (prior: ReplayData, plan: Plan, pkgs: VerifiedPackage[], checks: readonly EvidenceCheck[],
  ctx: CheckContext): Promise<Replayed | undefined> {
  const inputs = await checkInputs(checks, pkgs, ctx)
  for (const c of checks) if (c.inputs && inputs[c.name] !== prior.inputs[c.name]) return undefined

  const evidence = new Map<string, PackageEvidence>()
  for (const e of plan.entries) {
    const ev = prior.evidence[e.location]
    if (!ev) return undefined
    evidence.set(e.location, { ...ev })
  }
  const refreshing = checks.filter(c => c.refresh)
  for (const pkg of pkgs) {
    const ev = evidence.get(pkg.entry.location)!
    ev.integritySource = 'cache'
    for (const c of refreshing) {
      const r = c.refresh!(ev, pkg, ctx)
      if (r === 'rerun') return undefined
      Object.assign(ev, r)
    }
  }
  return { pkgs, verified: new Map(pkgs.map(p => [p.entry.location, p])), evidence }
}
