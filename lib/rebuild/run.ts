// `safe-install rebuild`: run the install scripts of allowed packages, after
// the fact and on purpose. Identity comes from the lockfile (PlanEntry), the
// script bodies from the installed package.json; a package whose installed
// package.json names another package or version gets nothing. Packages run
// one at a time, dependencies before dependents (deepest first among
// unrelated ones), preinstall -> install -> postinstall (-> prepare for local
// directory and workspace packages, as npm does for links).
import { existsSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import npa from 'npm-package-arg'
import semver from 'semver'
import type { Plan, PlanEntry } from '../types.js'
import { isAllowed, type AllowLists } from './allowlist.js'
import { privatizeFiles } from './privatize.js'
import { lifecycleScripts, type LifecycleEvent, type LifecycleScript } from './scripts.js'

export interface RunScriptOptions {
  event: string
  path: string
  pkg: Record<string, any>
  cmd?: string
  env?: Record<string, string>
  stdio?: 'pipe' | 'inherit'
  scriptShell?: string
  nodeGyp?: string
  binPaths?: false | string[]
}

export interface RunScriptResult {
  code: number | null
  signal: string | null
  stdout?: string | Buffer
  stderr?: string | Buffer
}

export type RunScriptFn = (opts: RunScriptOptions) => Promise<RunScriptResult>

const require = createRequire(import.meta.url)
let defaultRunScript: RunScriptFn | undefined
function npmRunScript (): RunScriptFn {
  defaultRunScript ??= require('@npmcli/run-script') as RunScriptFn
  return defaultRunScript
}

export type RebuildEvent =
  | { type: 'run', entry: PlanEntry, event: LifecycleEvent, cmd: string, path: string, by: string }
  | { type: 'done', entry: PlanEntry, event: LifecycleEvent, cmd: string, path: string, code: number, stdout: string, stderr: string }
  | { type: 'fail', entry: PlanEntry, event: LifecycleEvent, cmd: string, path: string, code: number | null, signal: string | null, stdout: string, stderr: string, message: string }
  | { type: 'skip', entry: PlanEntry, reason: string, scripts: readonly LifecycleScript[] }

export interface RebuildOptions {
  /** absolute project folder (node_modules lives under it) */
  readonly prefix: string
  readonly plan: Plan
  /** only these packages (`name` or `name@version|range`), as `npm rebuild <names>` */
  readonly names?: readonly string[]
  readonly lists: AllowLists
  readonly onEvent?: (event: RebuildEvent) => void
  /** 'pipe' (default; output is passed to onEvent) or 'inherit' */
  readonly stdio?: 'pipe' | 'inherit'
  /** npm's script-shell */
  readonly scriptShell?: string
  /** npm's node-gyp path */
  readonly nodeGyp?: string
  /** extra environment for every script */
  readonly env?: Readonly<Record<string, string>>
  /** replaced in tests */
  readonly runScript?: RunScriptFn
}

export interface RebuildResult {
  readonly ran: { location: string, spec: string, events: LifecycleEvent[] }[]
  readonly skipped: { location: string, spec: string, reason: string }[]
  readonly failed: { location: string, spec: string, event: LifecycleEvent, message: string }[]
}

/** Locations of `entries` in run order: dependencies first; among unrelated ones, deepest first, then by location. */
export function buildOrder (plan: Plan): string[] {
  const byLocation = new Map(plan.entries.map(e => [e.location, e]))
  const depth = (loc: string) => loc.split('/node_modules/').length
  const starts = [...plan.entries].sort((a, b) => depth(b.location) - depth(a.location) || (a.location < b.location ? -1 : a.location > b.location ? 1 : 0))
  const order: string[] = []
  const state = new Map<string, 1 | 2>()
  const visit = (loc: string): void => {
    if (state.has(loc)) return // visiting (a cycle) or done
    const e = byLocation.get(loc)
    if (!e) return
    state.set(loc, 1)
    const deps = [...e.dependencies]
    if (e.source === 'link' && e.resolved && byLocation.has(e.resolved)) deps.push(e.resolved)
    deps.sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : a > b ? 1 : 0))
    for (const d of deps) visit(d)
    state.set(loc, 2)
    order.push(loc)
  }
  for (const e of starts) visit(e.location)
  return order
}

/** Whether `entry` is one of `names` (`name`, `name@1.2.3`, `name@^1`). */
export function matchesNames (entry: PlanEntry, names: readonly string[] | undefined): boolean {
  if (!names?.length) return true
  return names.some(n => {
    let spec: any
    try {
      spec = npa(n)
    } catch {
      return false
    }
    if (spec.name !== entry.name && spec.name !== entry.installName) return false
    if (spec.type === 'version' || spec.type === 'range') {
      return spec.rawSpec === '' || spec.fetchSpec === '*' || semver.satisfies(entry.version, spec.fetchSpec, { loose: true, includePrerelease: true })
    }
    return spec.type === 'tag' && (spec.rawSpec === '' || spec.fetchSpec === 'latest')
  })
}

function readManifest (dir: string): Record<string, any> | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    return m && typeof m === 'object' && !Array.isArray(m) ? m : undefined
  } catch {
    return undefined
  }
}

function isFileIn (dir: string): (p: string) => boolean {
  return p => {
    try {
      return statSync(join(dir, p)).isFile()
    } catch {
      return false
    }
  }
}

const out = (b: string | Buffer | undefined): string => b === undefined ? '' : String(b)
const bool = (b: boolean): string => b ? '1' : ''

export async function rebuild (opts: RebuildOptions): Promise<RebuildResult> {
  const { prefix, plan, lists } = opts
  const emit = opts.onEvent ?? (() => {})
  const runScript = opts.runScript ?? npmRunScript()
  const byLocation = new Map(plan.entries.map(e => [e.location, e]))
  const result: RebuildResult = { ran: [], skipped: [], failed: [] }
  const failedLocations = new Set<string>()
  const named = !!opts.names?.length

  const skip = (entry: PlanEntry, reason: string, scripts: readonly LifecycleScript[] = []): void => {
    result.skipped.push({ location: entry.location, spec: `${entry.name}@${entry.version}`, reason })
    emit({ type: 'skip', entry, reason, scripts })
  }

  // the failed package a location (transitively) depends on, if any
  const failedDependency = (entry: PlanEntry): string | undefined => {
    const seen = new Set<string>()
    const stack = [...entry.dependencies]
    while (stack.length) {
      const loc = stack.pop()!
      if (seen.has(loc)) continue
      seen.add(loc)
      if (failedLocations.has(loc)) return loc
      const d = byLocation.get(loc)
      if (d) stack.push(...d.dependencies)
    }
    return undefined
  }

  for (const location of buildOrder(plan)) {
    const entry = byLocation.get(location)!
    if (!matchesNames(entry, opts.names)) continue
    const spec = `${entry.name}@${entry.version}`
    const dir = resolve(prefix, location)
    // a link whose target is its own entry is built there
    if (entry.source === 'link' && entry.resolved && byLocation.has(entry.resolved)) continue

    const manifest = existsSync(dir) ? readManifest(dir) : undefined
    if (!manifest) {
      if (named || entry.hasInstallScript) skip(entry, `not installed (no package.json at ${dir})`)
      continue
    }
    const scripts = lifecycleScripts(manifest, isFileIn(dir), { source: entry.source })
      // npm runs `prepare` at rebuild only for linked local packages
      .filter(s => s.event !== 'prepare' || entry.source === 'directory' || entry.source === 'workspace')
    if (!scripts.length) {
      if (named) skip(entry, 'no install scripts')
      continue
    }

    const decision = isAllowed(entry, lists, plan)
    if (!decision.allowed) {
      skip(entry, decision.by, scripts)
      continue
    }
    // identity: the lockfile decides, the installed package.json must agree
    if (manifest.name !== entry.name || (entry.source === 'registry' && (semver.valid(manifest.version) ?? manifest.version) !== (semver.valid(entry.version) ?? entry.version))) {
      skip(entry, `installed package.json says ${manifest.name}@${manifest.version}, the lockfile says ${spec}: refusing to run its scripts`, scripts)
      continue
    }
    const failedDep = failedDependency(entry)
    if (failedDep) {
      skip(entry, `its dependency ${failedDep} failed to build`, scripts)
      continue
    }

    const env: Record<string, string> = {
      ...opts.env,
      npm_package_json: join(dir, 'package.json'),
      npm_package_optional: bool(entry.optional),
      npm_package_dev: bool(entry.dev),
      npm_package_peer: bool(entry.peer),
      npm_package_dev_optional: bool(entry.devOptional && !entry.dev && !entry.optional),
    }
    if (entry.resolved) env.npm_package_resolved = entry.resolved
    if (entry.integrity) env.npm_package_integrity = entry.integrity

    // files linked from the shared store become the package's own first
    if (entry.source !== 'directory' && entry.source !== 'workspace' && entry.source !== 'link') privatizeFiles(dir)
    const events: LifecycleEvent[] = []
    let failed = false
    for (const s of scripts) {
      emit({ type: 'run', entry, event: s.event, cmd: s.cmd, path: dir, by: decision.by })
      try {
        const r = await runScript({
          event: s.event,
          path: dir,
          pkg: manifest,
          cmd: s.cmd,
          env,
          stdio: opts.stdio ?? 'pipe',
          ...(opts.scriptShell ? { scriptShell: opts.scriptShell } : {}),
          ...(opts.nodeGyp ? { nodeGyp: opts.nodeGyp } : {}),
        })
        events.push(s.event)
        emit({ type: 'done', entry, event: s.event, cmd: s.cmd, path: dir, code: r?.code ?? 0, stdout: out(r?.stdout), stderr: out(r?.stderr) })
      } catch (err: any) {
        const message = `${spec} ${s.event} script failed` +
          (err?.code != null ? ` with exit code ${err.code}` : '') + (err?.signal ? ` (signal ${err.signal})` : '') +
          (err?.code == null && !err?.signal && err?.message ? `: ${err.message}` : '')
        emit({ type: 'fail', entry, event: s.event, cmd: s.cmd, path: dir, code: typeof err?.code === 'number' ? err.code : null, signal: err?.signal ?? null, stdout: out(err?.stdout), stderr: out(err?.stderr), message })
        result.failed.push({ location, spec, event: s.event, message })
        failedLocations.add(location)
        failed = true
        break
      }
    }
    if (!failed) result.ran.push({ location, spec, events })
  }
  return result
}
