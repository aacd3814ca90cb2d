// Advisories and malware (SCVS 4.6-4.9). Once every package is verified,
// the exact installed set `{ name: [versions] }` is sent to each registry's
// bulk advisory endpoint (as `npm audit` does) and matched against OSV files
// given with `--advisories`. Matching is pure; I/O lives in the check.
import semver from 'semver'
import type { CheckContext, EvidenceCheck } from './check.js'
import type { AdvisoryFinding, AuditLevel, PackageEvidence, PlanEntry, VerifiedPackage, Violation } from '../types.js'
import { registryFor } from '../policy/lockfile-urls.js'
import { indexOsv, loadOsvFiles, matchOsv, wordSeverity, type OsvIndex, type OsvLoadResult } from './osv.js'

type Level = Exclude<AuditLevel, 'none'>

export const ADVISORIES_CHECK = 'advisories'
export const BULK_ADVISORY_PATH = '-/npm/v1/security/advisories/bulk'

const LEVELS: readonly AuditLevel[] = ['none', 'info', 'low', 'moderate', 'high', 'critical']
const SEMVER_OPTS = { loose: true, includePrerelease: true }

/** One advisory as the bulk endpoint returns it. */
export interface BulkAdvisory {
  readonly id: number | string
  readonly url?: string
  readonly title?: string
  readonly severity?: string
  readonly vulnerable_versions?: string
  readonly cwe?: readonly string[] | string
}

export type BulkResponse = Readonly<Record<string, readonly BulkAdvisory[]>>

// ---- pure ----

/** `severity >= level`; level 'none' never triggers. */
export function severityAtLeast (severity: Level, level: AuditLevel): boolean {
  if (level === 'none') return false
  return LEVELS.indexOf(severity) >= LEVELS.indexOf(level)
}

/** CWE-506 (embedded malicious code) or a title like "Malware in <name>". */
export function isMalwareAdvisory (adv: Pick<BulkAdvisory, 'cwe' | 'title'>): boolean {
  const cwes = Array.isArray(adv.cwe) ? adv.cwe : typeof adv.cwe === 'string' ? [adv.cwe] : []
  if (cwes.some(c => String(c).trim().toUpperCase() === 'CWE-506')) return true
  return typeof adv.title === 'string' && /^(malware|embedded malicious code) in\b/i.test(adv.title.trim())
}

/** The bulk request body for a set of packages: `{ name: [versions] }`, sorted. */
export function bulkBody (pkgs: Iterable<{ name: string, version: string }>): Record<string, string[]> {
  const body = new Map<string, Set<string>>()
  for (const { name, version } of pkgs) {
    let set = body.get(name)
    if (!set) body.set(name, set = new Set())
    set.add(version)
  }
  const out: Record<string, string[]> = {}
  for (const name of [...body.keys()].sort()) out[name] = [...body.get(name)!].sort()
  return out
}

/** The advisories of a bulk response that affect `name@version`. */
export function matchBulk (response: BulkResponse | undefined, name: string, version: string): AdvisoryFinding[] {
  const list = response?.[name]
  if (!Array.isArray(list)) return []
  const out: AdvisoryFinding[] = []
  for (const adv of list) {
    if (!adv || typeof adv !== 'object') continue
    const range = typeof adv.vulnerable_versions === 'string' ? adv.vulnerable_versions.trim() : ''
    // an advisory whose range cannot be read is taken as affecting every version
    const valid = range !== '' && semver.validRange(range, SEMVER_OPTS) !== null
    if (valid && !semver.satisfies(version, range, SEMVER_OPTS)) continue
    const malware = isMalwareAdvisory(adv)
    out.push({
      id: String(adv.id),
      title: adv.title || `advisory ${adv.id}`,
      severity: wordSeverity(adv.severity) ?? (malware ? 'critical' : 'high'),
      url: adv.url,
      malware,
      source: 'registry',
      range: range || '*',
    })
  }
  return out
}

/** GHSA ids a finding is known by (from its id or url), for de-duplication across sources. */
function ghsaIds (f: AdvisoryFinding): string[] {
  const ids: string[] = []
  for (const s of [f.id, f.url ?? '']) {
    const m = /GHSA(-[23456789cfghjmpqrvwx]{4}){3}/i.exec(s)
    if (m) ids.push(m[0].toUpperCase())
  }
  return ids
}

/** Registry findings first, then OSV findings not already reported (same id or GHSA id). */
export function mergeFindings (registry: readonly AdvisoryFinding[], osv: readonly AdvisoryFinding[]): AdvisoryFinding[] {
  const out = [...registry]
  const known = new Set<string>()
  for (const f of registry) {
    known.add(f.id.toUpperCase())
    for (const g of ghsaIds(f)) known.add(g)
  }
  for (const f of osv) {
    const ids = [f.id.toUpperCase(), ...ghsaIds(f)]
    if (ids.some(id => known.has(id))) continue
    out.push(f)
    for (const id of ids) known.add(id)
  }
  return out
}

/** Violations for one package's findings: malware always, others at or above the audit level. */
export function advisoryViolations (entry: Pick<PlanEntry, 'name' | 'version' | 'location'>, findings: readonly AdvisoryFinding[], auditLevel: AuditLevel): Violation[] {
  const spec = `${entry.name}@${entry.version}`
  const out: Violation[] = []
  const malware = findings.filter(f => f.malware)
  if (malware.length) {
    out.push({
      code: 'ESIMALWARE',
      message: `${spec} is flagged as malware: ${malware.map(describe).join('; ')}`,
      package: spec,
      path: entry.location,
      fix: `remove ${entry.name} (and whatever depends on it) from the project, and treat any machine that installed it as compromised`,
      severity: 'error',
    })
  }
  const over = findings.filter(f => !f.malware && severityAtLeast(f.severity, auditLevel))
  if (over.length) {
    out.push({
      code: 'ESIADVISORY',
      message: `${spec} has ${over.length} advisor${over.length === 1 ? 'y' : 'ies'} at or above --audit-level=${auditLevel}: ${over.map(describe).join('; ')}`,
      package: spec,
      path: entry.location,
      fix: `update ${entry.name} to a version outside the affected range, or raise --audit-level (safeInstall.auditLevel)`,
      severity: 'error',
    })
  }
  return out
}

function describe (f: AdvisoryFinding): string {
  return `${f.id} (${f.severity}${f.range ? `, ${f.range}` : ''}) ${f.title}${f.url ? ` ${f.url}` : ''}`
}

/** The one-line summary note, by severity. */
export function summarize (byLocation: ReadonlyMap<string, readonly AdvisoryFinding[]>, checked: number, sources: readonly string[]): string {
  const counts: Record<Level, number> = { critical: 0, high: 0, moderate: 0, low: 0, info: 0 }
  let malware = 0
  let pkgs = 0
  for (const list of byLocation.values()) {
    if (list.length) pkgs++
    for (const f of list) {
      if (f.malware) malware++
      else counts[f.severity]++
    }
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0)
  const via = sources.length ? ` (${sources.join(', ')})` : ''
  if (!total && !malware) return `no advisories for ${checked} package(s)${via}`
  const parts = (['critical', 'high', 'moderate', 'low', 'info'] as const).filter(l => counts[l]).map(l => `${counts[l]} ${l}`)
  if (malware) parts.unshift(`${malware} malware`)
  return `${total + malware} advisor${total + malware === 1 ? 'y' : 'ies'} in ${pkgs} of ${checked} package(s): ${parts.join(', ')}${via}`
}

// ---- the check ----

interface Target {
  readonly entry: PlanEntry
  readonly registry: string
}

/**
 * The exact installed set: every verified registry package, plus plan
 * entries not verified on their own (bundled ones), attributed to the
 * registry of the package that ships them.
 */
export function auditTargets (pkgs: readonly VerifiedPackage[], entries: readonly PlanEntry[], registryFor: (name: string) => string): Target[] {
  const out: Target[] = []
  const byLocation = new Map<string, VerifiedPackage>()
  for (const p of pkgs) byLocation.set(p.entry.location, p)
  for (const p of pkgs) {
    if (p.entry.source === 'registry') out.push({ entry: p.entry, registry: p.registry })
  }
  for (const e of entries) {
    if (byLocation.has(e.location) || e.source !== 'registry' || !e.version) continue
    // nearest enclosing verified package (for bundled entries)
    let parent: VerifiedPackage | undefined
    for (let loc = e.location; loc.includes('/node_modules/');) {
      loc = loc.slice(0, loc.lastIndexOf('/node_modules/'))
      parent = byLocation.get(loc)
      if (parent) break
    }
    out.push({ entry: e, registry: parent?.registry ?? registryFor(e.name) })
  }
  return out
}

export interface AdvisoriesCheckOptions {
  /** reads `--advisories` files; replaced in tests */
  readonly loadOsv?: (paths: readonly string[]) => Promise<OsvLoadResult>
}

export function createAdvisoriesCheck (opts: AdvisoriesCheckOptions = {}): EvidenceCheck {
  const loadOsv = opts.loadOsv ?? loadOsvFiles
  return {
    name: ADVISORIES_CHECK,
    live: true,
    async finish (pkgs, ctx) {
      return runAdvisories(pkgs, ctx, loadOsv)
    },
  }
}

export const advisoriesCheck: EvidenceCheck = createAdvisoriesCheck()

function withSlash (u: string): string {
  return u.endsWith('/') ? u : u + '/'
}

async function runAdvisories (
  pkgs: readonly VerifiedPackage[],
  ctx: CheckContext,
  loadOsv: (paths: readonly string[]) => Promise<OsvLoadResult>,
): Promise<{ evidence: ReadonlyMap<string, Partial<PackageEvidence>>, violations: readonly Violation[] }> {
  const { policy } = ctx.options
  const targets = auditTargets(pkgs, ctx.plan.entries, n => registryFor(n, ctx.options))
  const evidence = new Map<string, Partial<PackageEvidence>>()
  const violations: Violation[] = []
  if (!targets.length) return { evidence, violations }

  const problems: string[] = []
  const sources: string[] = []

  // OSV files
  let osv: OsvIndex | undefined
  if (policy.advisoryFiles.length) {
    const loaded = await loadOsv(policy.advisoryFiles)
    if (loaded.errors.length) problems.push(`advisory files: ${loaded.errors.slice(0, 3).join('; ')}${loaded.errors.length > 3 ? `; and ${loaded.errors.length - 3} more` : ''}`)
    if (loaded.files > 0) {
      osv = indexOsv(loaded.records)
      sources.push(`${loaded.records.length} OSV record(s) from ${loaded.files} file(s)`)
    }
  }

  // registry bulk endpoints, one request per registry
  const answered = new Map<string, BulkResponse>()
  const byRegistry = new Map<string, Target[]>()
  for (const t of targets) {
    const r = withSlash(t.registry)
    let list = byRegistry.get(r)
    if (!list) byRegistry.set(r, list = [])
    list.push(t)
  }
  // deliberate skips are only worth a word when nothing else checked a package
  let skipped: string | undefined
  if (!policy.registryAdvisories) {
    skipped = 'registry advisories are turned off (registryAdvisories)'
  } else if (ctx.options.offline) {
    skipped = 'registry advisories are skipped with --offline'
  } else {
    await Promise.all([...byRegistry].map(async ([registry, list]) => {
      const url = registry + BULK_ADVISORY_PATH
      try {
        const res = await ctx.postJson(url, bulkBody(list.map(t => t.entry)))
        if (res && typeof res === 'object' && !Array.isArray(res)) {
          answered.set(registry, res as BulkResponse)
        } else {
          problems.push(`${url} ${res === undefined ? 'answered 404' : 'gave an unreadable answer'}`)
        }
      } catch (err) {
        // the error names the URL already
        problems.push((err as Error)?.message ?? `${url} failed: ${String(err)}`)
      }
    }))
    if (answered.size) sources.push(`registry: ${[...answered.keys()].join(', ')}`)
  }

  const byLocation = new Map<string, AdvisoryFinding[]>()
  const unchecked: string[] = []
  for (const t of targets) {
    const { entry } = t
    const response = answered.get(withSlash(t.registry))
    if (!response && !osv) {
      unchecked.push(`${entry.name}@${entry.version}`)
      continue
    }
    const findings = mergeFindings(
      response ? matchBulk(response, entry.name, entry.version) : [],
      osv ? matchOsv(osv, entry.name, entry.version) : [],
    )
    byLocation.set(entry.location, findings)
    evidence.set(entry.location, { advisories: findings })
    violations.push(...advisoryViolations(entry, findings, policy.auditLevel))
  }

  if (byLocation.size) {
    const sum = summarize(byLocation, byLocation.size, sources)
    const any = [...byLocation.values()].some(l => l.length)
    ctx.note({ check: ADVISORIES_CHECK, level: any ? 'warning' : 'info', message: sum })
  }
  if (unchecked.length) {
    const shown = unchecked.length === targets.length
      ? `all ${targets.length} package(s)`
      : `${unchecked.length} of ${targets.length} package(s) (${unchecked.slice(0, 5).join(', ')}${unchecked.length > 5 ? ', ...' : ''})`
    ctx.note({
      check: ADVISORIES_CHECK,
      level: 'warning',
      message: `advisories could not be checked: ${[...(skipped ? [skipped] : []), ...problems].join('; ') || 'no source answered'}` +
        `${policy.advisoryFiles.length ? '' : '; no --advisories files were given'}; not checked: ${shown}` +
        `${policy.advisoryFiles.length ? '' : '. Pass --advisories <osv-dir> to check without the registry'}`,
    })
  } else if (problems.length) {
    ctx.note({ check: ADVISORIES_CHECK, level: 'warning', message: `some advisory sources did not answer: ${problems.join('; ')}` })
  }
  return { evidence, violations }
}
