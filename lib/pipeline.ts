// One straight line for `ci`, `install` and `verify`:
// options -> transport policy -> plan -> lockfile policy -> fetch + integrity
// -> evidence checks -> (writer) -> record. Every refusal is collected as a
// value and raised before anything is written.
import { SafeInstallError } from './errors.js'
import type { CheckContext, CheckResult, EvidenceCheck, FactCache } from './evidence/check.js'
import { packumentUpTo, UP_TO_FACT, upToKey } from './fetch/version-facts.js'
import { trustSkipped } from './evidence/trust.js'
import { RegistryClient } from './fetch/client.js'
import { DiskFacts } from './fetch/facts.js'
import { Packuments } from './fetch/packuments.js'
import { Budget } from './fetch/budget.js'
import { mapLimit } from './fetch/pool.js'
import { storePaths } from './fetch/store.js'
import { verifyEntry } from './fetch/verify.js'
import { DEFAULT_REGISTRY } from './config/load.js'
import type { Options } from './options.js'
import { isFetchedSource, isLocalSource } from './plan/classify.js'
import { loadPlan, type LoadedPlan } from './plan/load.js'
import { checkIntegrityPresence } from './policy/integrity.js'
import { checkLockfileUrls, type RegistryConfig } from './policy/lockfile-urls.js'
import { checkSources } from './policy/sources.js'
import { transportViolations } from './policy/transport.js'
import { lifecycleScripts, scriptNames } from './rebuild/scripts.js'
import { checkInputs, REPLAY_VERSION, replayPackages, replayVerdicts, type ReplayData } from './replay.js'
import type { PackageEvidence, Plan, RunNote, VerifiedPackage, Violation } from './types.js'
import { acquireLock } from './write/lock.js'
import type { StagedWrite, TreeWriter } from './write/writer.js'
import type { SideThread } from './offload/side-thread.js'

/** Bytes held at once by packages whose tarball and inflated tar take TARBALL_LARGE or more. */
const TARBALL_BUDGET = 128 * 1024 * 1024
const TARBALL_LARGE = 32 * 1024 * 1024

/** Where, among the checks, a package's bytes are let go. */
const RELEASE: EvidenceCheck = { name: 'release' }

export interface PipelineRequest {
  /** specs to add (`install <spec...>`) */
  add?: string[]
  /** `ci`: what an earlier run on the same inputs verified, to replay (lib/replay.ts) */
  prior?: ReplayData
}

export interface PipelineHooks {
  /** progress: done of total packages verified */
  progress?: (done: number, total: number) => void
  /** something worth telling the user while running (e.g. waiting for a lock) */
  info?: (message: string) => void
  checks: readonly EvidenceCheck[]
  writer?: TreeWriter
  /** where the checks may hand work off the main thread (the TUF client) */
  side?: SideThread
  /**
   * called once every verdict is in and holds, before the write is committed
   * (during a replay, while the tree is still being staged); the write may
   * still add notes
   */
  verified?: (result: RunResult) => void
  /** the writer's stageRecord (WriteInput): the record written into the staged tree */
  stageRecord?: (stagedDir: string, dropped: AbortSignal) => Promise<void> | undefined
  /** called after a successful write with everything known, returns record info */
  afterWrite?: (result: RunResult) => Promise<void>
}

export interface SkippedScripts {
  readonly name: string
  readonly version: string
  readonly location: string
  readonly scripts: readonly string[]
}

export interface RunResult {
  command: string
  plan: Plan
  evidence: Map<string, PackageEvidence>
  verified: Map<string, VerifiedPackage>
  warnings: Violation[]
  notes: RunNote[]
  stats: { packages: number, fetched: number, fromNetwork: number, fromCache: number, bundled: number, links: number }
  scriptsSkipped: SkippedScripts[]
  timings: Record<string, number>
  recovered: string[]
  wrote: boolean
  /** the earlier run's verdicts were replayed (only live checks ran) */
  replayed: boolean
  /** from a full run: what a later `ci` of the same inputs may replay */
  replayData?: ReplayData
}

function registryConfig (options: Options): RegistryConfig {
  return {
    registry: options.registry,
    scopedRegistries: options.scopedRegistries,
    replaceRegistryHost: options.replaceRegistryHost,
    defaultRegistry: DEFAULT_REGISTRY,
  }
}

/** Malware and advisories lead (their exit code, 7, is what CI keys on), then the rest in order. */
const LEADS = ['ESIMALWARE', 'ESIADVISORY']

export function refuse (violations: Violation[], what: string): never {
  const errors = violations.filter(v => v.severity !== 'warning')
  const first = errors.find(v => LEADS.includes(v.code)) ?? errors[0]
  throw new SafeInstallError(first.code as any, errors.length === 1 ? first.message : `${errors.length} problems ${what}`, {
    violations: errors,
    package: first.package,
    path: first.path,
    fix: first.fix,
  })
}

export async function runPipeline (options: Options, request: PipelineRequest, hooks: PipelineHooks): Promise<RunResult> {
  const timings: Record<string, number> = {}
  const time = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now()
    try { return await fn() } finally { timings[phase] = (timings[phase] ?? 0) + performance.now() - start }
  }

  // 1. transport policy, before any request (SCVS 4.15/4.16)
  const transport = transportViolations(options)
  if (transport.length) refuse(transport, 'with the transport settings')

  const writes = options.command !== 'verify'
  const lock = writes
    ? await acquireLock(options.prefix, { onWait: pid => hooks.info?.(`waiting for another safe-install (pid ${pid}) to finish in this project`) })
    : undefined
  let staged: StagedWrite | undefined
  try {
    const recovered = writes && hooks.writer ? await hooks.writer.recover(options) : []

    // the project's facts snapshot loads while Arborist reads the lockfile
    // (a replay needs none of it)
    const paths = storePaths(options.cache)
    const facts = new DiskFacts(paths.facts)
    const writer = writes ? hooks.writer : undefined
    const prior = writer?.holds && options.command === 'ci' ? request.prior : undefined
    let snapshot = prior ? undefined : facts.loadSnapshot(options.prefix)
    // the stored files a replay would link are checked elsewhere from now on,
    // while this thread plans; unused if the run does not replay
    if (prior) writer?.checkAhead?.(Object.values(prior.packages).map(p => p.integrity), options)

    // 2. the plan
    const loaded: LoadedPlan = await time('plan', () => loadPlan(options, options.command === 'install'
      ? { mode: 'resolve', add: request.add }
      : { mode: 'lockfile' }))
    const plan = loaded.plan
    const registries = registryConfig(options)

    // 3. lockfile policy: pure, nothing fetched yet (SCVS 4.1/4.2)
    const { violations: urlViolations, urls } = checkLockfileUrls(plan.entries, registries)
    const policyViolations = [
      ...checkSources(plan.entries, options.policy),
      ...checkIntegrityPresence(plan.entries, options.policy),
      ...urlViolations,
    ]
    timings.policy = 0
    if (policyViolations.some(v => v.severity !== 'warning')) refuse(policyViolations, 'in the lockfile')

    // 4. fetch + integrity, with evidence checks running as packages arrive
    const client = new RegistryClient(options)
    const p = options.policy
    const wanted = new Map<string, Set<string>>()
    for (const e of plan.entries) {
      if (e.source !== 'registry') continue
      let versions = wanted.get(e.name)
      if (!versions) wanted.set(e.name, versions = new Set())
      versions.add(e.version)
    }
    const packuments = new Packuments(client, p.minReleaseAgeDays > 0 || p.strictReleaseAge || !trustSkipped(p), name => wanted.get(name))
    const notes: RunNote[] = []
    const ctx: CheckContext = {
      options,
      plan,
      fetchJson: (url, o) => client.json(url, { accept: o?.accept, cache: o?.httpCache, fresh: o?.fresh }),
      postJson: (url, body) => client.postJson(url, body),
      fullPackument: (name, registry, version) => version === undefined
        ? packuments.complete(name, registry)
        : cachedUpTo(facts, packuments, name, registry, version),
      facts,
      note: n => { notes.push(n) },
      side: hooks.side,
    }
    const checks = hooks.checks
    const held = writer?.holds ? (integrity: string) => writer.holds!(integrity, options, loaded.listings?.[integrity]) : undefined
    const evidence = new Map<string, PackageEvidence>()
    const verified = new Map<string, VerifiedPackage>()
    const violations: Violation[] = []
    const scriptsSkipped: SkippedScripts[] = []
    const fetched = plan.entries.filter(e => !e.bundled && isFetchedSource(e.source))
    let replayData: ReplayData | undefined

    // every one of them is among the prior's packages, checked ahead above
    const candidates = prior && loaded.layout && held ? replayPackages(prior, plan, held) : undefined
    // the live checks (advisories) need only the package list: they ask while
    // the replay checks the keys, and count only if the replay holds
    const live = candidates ? finishChecks(checks.filter(c => c.live), candidates, ctx) : undefined
    let replayed: Awaited<ReturnType<typeof replayVerdicts>>
    let result: RunResult | undefined
    /** the run's outcome once every verdict is in; hooks.verified hears of it before anything is written */
    const conclude = (): RunResult => {
      const allVerified = [...verified.values()]
      const warnings = [...policyViolations, ...violations].filter(v => v.severity === 'warning')
      if (violations.some(v => v.severity !== 'warning')) refuse(sortViolations(violations), 'found while verifying packages')
      const stats = {
        packages: plan.entries.length,
        fetched: fetched.length,
        fromNetwork: allVerified.filter(p => p.from === 'network').length,
        fromCache: allVerified.filter(p => p.from === 'cache').length,
        bundled: plan.entries.filter(e => e.bundled).length,
        links: plan.entries.filter(e => isLocalSource(e.source)).length,
      }
      scriptsSkipped.sort((a, b) => a.location.localeCompare(b.location))
      const r: RunResult = {
        command: options.command, plan, evidence, verified, warnings, notes, stats, scriptsSkipped, timings, recovered, wrote: false,
        replayed: Boolean(replayed),
        replayData,
      }
      hooks.verified?.(r)
      return r
    }
    if (candidates) {
      // settles while the tree is staged (the writer lets the event loop run):
      // the record can then be made while the rest of the tree is written
      const settled = replayVerdicts(prior!, plan, candidates, checks, ctx).catch(() => undefined).then(async r => {
        if (!r) return undefined
        replayed = r
        for (const [loc, ev] of r.evidence) evidence.set(loc, ev)
        for (const [loc, pkg] of r.verified) verified.set(loc, pkg)
        violations.push(...prior!.warnings.filter(w => !policyViolations.some(v => v.code === w.code && v.path === w.path)))
        notes.push(...prior!.notes)
        scriptsSkipped.push(...prior!.scriptsSkipped)
        absorb(await live!, evidence, violations, notes)
        if (!violations.some(v => v.severity !== 'warning')) result = conclude()
        return r
      })
      void settled.catch(() => {}) // awaited below, unless staging fails first
      // the tree is staged while the keys and advisories are asked: node_modules
      // changes only once both are in and hold (the commit below), else not at all
      if (writer?.stage) {
        const byLocation = new Map(candidates.map(p => [p.entry.location, p]))
        staged = await time('write', () => writer.stage!({ options, loaded, verified: byLocation, paths, save: false, checkedAhead: true, stageRecord: hooks.stageRecord }))
      }
      await time('replay', () => settled)
      if (!replayed && staged) {
        const s = staged
        staged = undefined
        await s.abort()
      }
    }
    if (!replayed) {
      // a refused replay: the live checks run again below, on the full run's packages
      void live?.catch(() => {})
      snapshot ??= facts.loadSnapshot(options.prefix)
      await snapshot
      await time('evidence', () => Promise.all(checks.map(c => c.prepare?.(ctx))))
      for (const e of plan.entries) {
        if (e.bundled) evidence.set(e.location, { integritySource: 'bundled', scripts: [] })
        else if (isLocalSource(e.source)) evidence.set(e.location, { integritySource: 'link', scripts: [] })
      }
      const byContents = [...checks.filter(c => c.readsContents), RELEASE, ...checks.filter(c => !c.readsContents)]
      const keep = writer?.keep ? (integrity: string, data: Buffer) => writer.keep!(integrity, data, options) : undefined
      const budget = new Budget(TARBALL_BUDGET, TARBALL_LARGE)
      let done = 0
      const concurrency = Math.max(4, Number(options.npmFlat.maxSockets ?? 16))
      await time('fetch', () => mapLimit(fetched, concurrency, async entry => {
        const outcome = await verifyEntry(entry, { options, client, packuments, paths, registries, urls, facts, held, keep, budget })
        hooks.progress?.(++done, fetched.length)
        if (!outcome.ok) { violations.push(...outcome.violations); return }
        const pkg = outcome.pkg
        verified.set(entry.location, pkg)
        const scripts = scriptNames(lifecycleScripts(pkg.manifest, pkg.files, { source: entry.source }))
        const ev: PackageEvidence = { integritySource: pkg.from, scripts }
        if (scripts.length) scriptsSkipped.push({ name: entry.name, version: entry.version, location: entry.location, scripts })
        const results = new Map<EvidenceCheck, CheckResult>()
        try {
          for (const check of byContents) {
            if (check === RELEASE) {
              // the bytes and file contents are needed only by the checks before
              outcome.release()
              continue
            }
            if (!check.check) continue
            const started = performance.now()
            results.set(check, await check.check(pkg, ctx))
            const key = `check:${check.name}`
            timings[key] = (timings[key] ?? 0) + performance.now() - started
          }
        } finally {
          // also when a check throws: the budget must not stay held
          outcome.release()
        }
        // evidence and violations in the checks' own order, whatever order they ran in
        for (const check of checks) {
          const res = results.get(check)
          if (!res) continue
          Object.assign(ev, res.evidence ?? {})
          violations.push(...(res.violations ?? []))
        }
        evidence.set(entry.location, ev)
      }))
      absorb(await time('evidence', () => finishChecks(checks.filter(c => !c.live), [...verified.values()], ctx)), evidence, violations, notes)
      // what was learned is kept even when the run refuses
      await facts.saveSnapshot()
      if (!violations.some(v => v.severity !== 'warning') && verified.size === fetched.length) {
        // what a later ci of the same inputs may replay: everything but the live checks
        scriptsSkipped.sort((a, b) => a.location.localeCompare(b.location))
        replayData = {
          v: REPLAY_VERSION,
          packages: Object.fromEntries([...verified].map(([loc, p]) => [loc, { integrity: p.integrity, tarballUrl: p.tarballUrl, registry: p.registry }])),
          evidence: JSON.parse(JSON.stringify(Object.fromEntries(evidence))),
          warnings: [...policyViolations, ...violations].filter(v => v.severity === 'warning'),
          notes: [...notes],
          inputs: await checkInputs(checks, [...verified.values()], ctx),
          scriptsSkipped: [...scriptsSkipped],
        }
      }
      absorb(await time('evidence', () => finishChecks(checks.filter(c => c.live), [...verified.values()], ctx)), evidence, violations, notes)
    }
    const final = result ?? conclude()

    // 5. write: only now, everything verified
    if (writes && hooks.writer) {
      const s = staged
      staged = undefined
      await time('write', () => s ? s.commit() : hooks.writer!.write({ options, loaded, verified, paths, save: options.command === 'install', stageRecord: hooks.stageRecord }))
      final.wrote = true
      if (loaded.remember && hooks.writer.layout) await loaded.remember(hooks.writer.layout, hooks.writer.listings?.())
      notes.push(...(hooks.writer.notes ?? []))
      for (const [step, ms] of Object.entries(hooks.writer.timings ?? {})) timings[`write:${step}`] = ms
    }
    if (hooks.afterWrite) await time('record', () => hooks.afterWrite!(final))
    return final
  } finally {
    // a tree staged for a replay that was then refused (an advisory, a write error)
    await staged?.abort().catch(() => {})
    // the old tree goes away in the background; done before another run may start
    await hooks.writer?.settle?.().catch(() => {})
    await lock?.release()
  }
}

interface Finished {
  evidence: [string, Partial<PackageEvidence>][]
  violations: Violation[]
  notes: RunNote[]
}

/** Each check's `finish`, in order; what they found (notes included) is kept apart until absorbed. */
async function finishChecks (checks: readonly EvidenceCheck[], pkgs: readonly VerifiedPackage[], ctx: CheckContext): Promise<Finished> {
  const out: Finished = { evidence: [], violations: [], notes: [] }
  const apart: CheckContext = { ...ctx, note: n => { out.notes.push(n) } }
  for (const check of checks) {
    if (!check.finish) continue
    const res = await check.finish(pkgs, apart)
    out.evidence.push(...(res.evidence ?? []))
    out.violations.push(...(res.violations ?? []))
  }
  return out
}

/** Adds what finishChecks found to the run's evidence (of packages it has), violations and notes. */
function absorb (found: Finished, evidence: Map<string, PackageEvidence>, violations: Violation[], notes: RunNote[]): void {
  for (const [loc, ev] of found.evidence) {
    const cur = evidence.get(loc)
    if (cur) Object.assign(cur, ev)
  }
  violations.push(...found.violations)
  notes.push(...found.notes)
}

/** Memoized per run; across runs the immutable view of `name@version` comes from the facts cache. */
async function cachedUpTo (facts: FactCache, packuments: Packuments, name: string, registry: string, version: string): Promise<any | undefined> {
  const key = upToKey(registry, name, version)
  const hit = await facts.get<any>(UP_TO_FACT, key)
  if (hit) return hit
  const full = await packuments.complete(name, registry)
  if (!full) return full
  const upTo = packumentUpTo(full, version)
  if (!upTo) return full
  await facts.set(UP_TO_FACT, key, upTo)
  return upTo
}

function sortViolations (v: Violation[]): Violation[] {
  return [...v].sort((a, b) => (a.path ?? '').localeCompare(b.path ?? '') || a.code.localeCompare(b.code))
}

