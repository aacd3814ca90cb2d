// The evidence seam: every check after integrity (signatures, provenance,
// trust, advisories, cooldown, scan) implements this interface. The pipeline
// calls `check` for each verified package as soon as its bytes are verified
// (so checks overlap with fetching), then `finish` once all are in. All of
// it happens before anything is written to node_modules.
import type { SideThread } from '../offload/side-thread.js'
import type { Options } from '../options.js'
import type { PackageEvidence, Plan, RunNote, VerifiedPackage, Violation } from '../types.js'

/** Shared, per-run services a check may use (all I/O goes through these). */
export interface CheckContext {
  readonly options: Options
  readonly plan: Plan
  /** GET JSON from a registry with npm's auth/ca/proxy/retry settings; undefined on 404 */
  /** JSON GET, undefined on 404; `httpCache: false` bypasses npm's HTTP cache (for what is kept as a fact once verified) */
  /** `fresh`: asked anew on every run (a registry's keys), so it may skip npm's fetch stack and HTTP cache when online */
  readonly fetchJson: (url: string, opts?: { accept?: string, httpCache?: boolean, fresh?: boolean }) => Promise<any | undefined>
  /** POST JSON (used by the bulk advisory endpoint) */
  readonly postJson: (url: string, body: unknown) => Promise<any | undefined>
  /**
   * full packument (with `time` and `_npmUser`), fetched at most once per
   * name per run. Given a version, it may answer from the cache with the
   * packument as it stood when that version was published (that version and
   * the earlier ones: immutable), so a warm install makes no request.
   */
  readonly fullPackument: (name: string, registry: string, version?: string) => Promise<any | undefined>
  /** the cache of immutable facts, keyed by integrity (see lib/fetch/facts.ts) */
  readonly facts: FactCache
  readonly note: (note: RunNote) => void
  /** a thread for work that need not run on this one (the TUF client); absent: all on this thread */
  readonly side?: SideThread
}

/** Immutable facts about a given integrity (a signature result, a scan) never change. */
export interface FactCache {
  get<T = unknown> (kind: string, key: string): Promise<T | undefined>
  set (kind: string, key: string, value: unknown): Promise<void>
}

export interface CheckResult {
  readonly evidence?: Partial<PackageEvidence>
  readonly violations?: readonly Violation[]
}

export interface EvidenceCheck {
  readonly name: string
  /**
   * Verdicts that can change for the very same packages (advisories): a run
   * replaying an earlier run's verdicts (lib/replay.ts) runs `finish` again.
   */
  readonly live?: boolean
  /**
   * The check reads file contents (`pkg.readFile`): the pipeline runs such
   * checks first, then drops the package's bytes before the checks that wait
   * on the network, so a slow answer does not keep a tarball in memory.
   */
  readonly readsContents?: boolean
  /**
   * What else, run-wide, this check's verdicts depend on that can change
   * between runs (a registry's signing keys), as a fingerprint. A replay is
   * refused when it differs from the one recorded with the verdicts.
   */
  inputs? (pkgs: readonly VerifiedPackage[], ctx: CheckContext): Promise<string>
  /**
   * A replayed package's evidence brought up to date (an age in days), or
   * 'rerun' when it cannot be replayed (a verdict that depends on the clock).
   */
  refresh? (evidence: Readonly<PackageEvidence>, pkg: VerifiedPackage, ctx: CheckContext): Partial<PackageEvidence> | 'rerun'
  /** once per run, before packages flow (e.g. load keys); may add notes */
  prepare? (ctx: CheckContext): Promise<void>
  /** per verified package */
  check? (pkg: VerifiedPackage, ctx: CheckContext): Promise<CheckResult>
  /** once all packages are verified (e.g. bulk advisories); results by location */
  finish? (pkgs: readonly VerifiedPackage[], ctx: CheckContext): Promise<{
    evidence?: ReadonlyMap<string, Partial<PackageEvidence>>
    violations?: readonly Violation[]
  }>
}
