// OSV advisory files (`--advisories <path>`): a directory of OSV JSON files
// (as the osv.dev npm dump unpacks) or one file holding a JSON array of OSV
// records. Matching is pure and separate from reading.
// Format: https://ossf.github.io/osv-schema/
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import semver from 'semver'
import type { AdvisoryFinding, AuditLevel } from '../types.js'

type Level = Exclude<AuditLevel, 'none'>

export interface OsvEvent {
  readonly introduced?: string
  readonly fixed?: string
  readonly last_affected?: string
  readonly limit?: string
}

export interface OsvRange {
  readonly type: string
  readonly events?: readonly OsvEvent[]
}

export interface OsvAffected {
  readonly package?: { readonly ecosystem?: string, readonly name?: string, readonly purl?: string }
  readonly ranges?: readonly OsvRange[]
  readonly versions?: readonly string[]
  readonly severity?: readonly { type: string, score: string }[]
  readonly ecosystem_specific?: Record<string, any>
  readonly database_specific?: Record<string, any>
}

export interface OsvRecord {
  readonly id: string
  readonly summary?: string
  readonly details?: string
  readonly aliases?: readonly string[]
  readonly withdrawn?: string
  readonly severity?: readonly { type: string, score: string }[]
  readonly affected?: readonly OsvAffected[]
  readonly references?: readonly { type?: string, url?: string }[]
  readonly database_specific?: Record<string, any>
}

/** OSV records by npm package name. */
export type OsvIndex = ReadonlyMap<string, readonly { record: OsvRecord, affected: OsvAffected }[]>

const SEMVER_OPTS = { loose: true, includePrerelease: true }

// ---- reading ----

export interface OsvLoadResult {
  readonly records: OsvRecord[]
  /** files read successfully */
  readonly files: number
  /** one line per path or file that could not be read */
  readonly errors: string[]
}

/** Reads OSV records from files and directories (recursively, `*.json`). */
export async function loadOsvFiles (paths: readonly string[]): Promise<OsvLoadResult> {
  const records: OsvRecord[] = []
  const errors: string[] = []
  let files = 0

  const readOne = async (file: string): Promise<void> => {
    try {
      const data = JSON.parse(await readFile(file, 'utf8'))
      const list = parseOsvJson(data)
      if (!list) {
        errors.push(`${file}: not an OSV record or array of records`)
        return
      }
      records.push(...list)
      files++
    } catch (err) {
      errors.push(`${file}: ${(err as Error).message}`)
    }
  }

  const walk = async (dir: string): Promise<void> => {
    const dirents = await readdir(dir, { withFileTypes: true })
    dirents.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    for (const d of dirents) {
      const p = join(dir, d.name)
      if (d.isDirectory()) await walk(p)
      else if (d.isFile() && d.name.toLowerCase().endsWith('.json')) await readOne(p)
    }
  }

  for (const path of paths) {
    try {
      const st = await stat(path)
      if (st.isDirectory()) await walk(path)
      else await readOne(path)
    } catch (err) {
      errors.push(`${path}: ${(err as Error).message}`)
    }
  }
  return { records, files, errors }
}

/** Accepts one OSV record, an array of them, or an OSV API `{ vulns: [...] }` answer. */
export function parseOsvJson (data: unknown): OsvRecord[] | undefined {
  const isRecord = (r: any): r is OsvRecord => r && typeof r === 'object' && typeof r.id === 'string'
  if (Array.isArray(data)) return data.filter(isRecord)
  if (isRecord(data)) return [data]
  if (data && typeof data === 'object' && Array.isArray((data as any).vulns)) return (data as any).vulns.filter(isRecord)
  return undefined
}

// ---- matching (pure) ----

export function indexOsv (records: readonly OsvRecord[]): OsvIndex {
  const index = new Map<string, { record: OsvRecord, affected: OsvAffected }[]>()
  for (const record of records) {
    if (!record || typeof record.id !== 'string' || record.withdrawn) continue
    for (const affected of record.affected ?? []) {
      const pkg = affected?.package
      if (!pkg || typeof pkg.name !== 'string' || String(pkg.ecosystem).toLowerCase() !== 'npm') continue
      let list = index.get(pkg.name)
      if (!list) index.set(pkg.name, list = [])
      list.push({ record, affected })
    }
  }
  return index
}

/** The OSV advisories affecting `name@version`, one finding per record. */
export function matchOsv (index: OsvIndex, name: string, version: string): AdvisoryFinding[] {
  const out: AdvisoryFinding[] = []
  const seen = new Set<string>()
  for (const { record, affected } of index.get(name) ?? []) {
    if (seen.has(record.id)) continue
    const range = affectedRange(affected, version)
    if (range === undefined) continue
    seen.add(record.id)
    const malware = isOsvMalware(record)
    out.push({
      id: record.id,
      title: record.summary || firstLine(record.details) || record.id,
      severity: osvSeverity(record, affected) ?? (malware ? 'critical' : 'high'),
      url: advisoryUrl(record),
      malware,
      source: 'osv',
      range,
    })
  }
  return out
}

/**
 * Whether `version` is affected; returns the range that matched (a
 * readable description), or undefined when not affected.
 */
export function affectedRange (affected: OsvAffected, version: string): string | undefined {
  if (Array.isArray(affected.versions) && affected.versions.includes(version)) {
    return `=${version} (listed)`
  }
  for (const r of affected.ranges ?? []) {
    // npm versions are semver, so ECOSYSTEM ranges (as GitHub's advisories use) compare the same
    if (r?.type !== 'SEMVER' && r?.type !== 'ECOSYSTEM') continue
    const hit = versionInEvents(version, r.events ?? [])
    if (hit !== undefined) return hit
  }
  return undefined
}

/**
 * The OSV evaluation: walk the events sorted by version; `introduced` at or
 * below the version opens, `fixed` at or below closes, `last_affected` below
 * closes. `limit` bounds the whole range from above.
 */
export function versionInEvents (version: string, events: readonly OsvEvent[]): string | undefined {
  const v = semver.parse(version, SEMVER_OPTS)
  if (!v) return undefined
  type Ev = { kind: 'introduced' | 'fixed' | 'last_affected' | 'limit', ver: semver.SemVer | null, raw: string }
  const evs: Ev[] = []
  for (const e of events) {
    for (const kind of ['introduced', 'fixed', 'last_affected', 'limit'] as const) {
      const raw = e?.[kind]
      if (typeof raw !== 'string') continue
      if (kind === 'introduced' && raw === '0') { evs.push({ kind, ver: null, raw }); continue }
      if (kind === 'limit' && raw === '*') continue
      const ver = semver.parse(raw, SEMVER_OPTS)
      if (ver) evs.push({ kind, ver, raw })
    }
  }
  const limits = evs.filter(e => e.kind === 'limit')
  if (limits.length && !limits.some(l => l.ver && semver.lt(v, l.ver))) return undefined
  const order = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 }
  const sorted = evs.filter(e => e.kind !== 'limit').sort((a, b) => {
    if (!a.ver || !b.ver) return a.ver === b.ver ? order[a.kind] - order[b.kind] : a.ver ? 1 : -1
    return semver.compare(a.ver, b.ver) || order[a.kind] - order[b.kind]
  })
  let open: Ev | undefined
  let closer: Ev | undefined
  for (const e of sorted) {
    if (e.kind === 'introduced') {
      if (!e.ver || semver.lte(e.ver, v)) { open = e; closer = undefined }
    } else if (e.kind === 'fixed') {
      if (e.ver && semver.lte(e.ver, v)) open = undefined
      else if (open && !closer) closer = e
    } else if (e.kind === 'last_affected') {
      if (e.ver && semver.lt(e.ver, v)) open = undefined
      else if (open && !closer) closer = e
    }
  }
  if (!open) return undefined
  const lo = open.ver ? `>=${open.raw}` : '>=0.0.0'
  const hi = closer ? (closer.kind === 'fixed' ? ` <${closer.raw}` : ` <=${closer.raw}`) : ''
  return lo + hi
}

/** OSV `MAL-` ids (the OpenSSF malicious-packages feed), CWE-506, or a "Malware in" summary. */
export function isOsvMalware (record: OsvRecord): boolean {
  const ids = [record.id, ...(record.aliases ?? [])]
  if (ids.some(id => typeof id === 'string' && id.toUpperCase().startsWith('MAL-'))) return true
  const cwes = record.database_specific?.cwe_ids
  if (Array.isArray(cwes) && cwes.some(c => String(c).toUpperCase() === 'CWE-506')) return true
  return typeof record.summary === 'string' && /^malware in\b/i.test(record.summary.trim())
}

/** Severity from `database_specific.severity` (GitHub's words) or a CVSS v3 vector / score. */
export function osvSeverity (record: OsvRecord, affected?: OsvAffected): Level | undefined {
  for (const ds of [affected?.database_specific, affected?.ecosystem_specific, record.database_specific]) {
    const word = wordSeverity(ds?.severity)
    if (word) return word
  }
  for (const list of [affected?.severity, record.severity]) {
    for (const s of list ?? []) {
      const score = cvssScore(s?.score)
      if (score !== undefined) return scoreToLevel(score)
    }
  }
  return undefined
}

export function wordSeverity (w: unknown): Level | undefined {
  if (typeof w !== 'string') return undefined
  switch (w.trim().toLowerCase()) {
    case 'critical': return 'critical'
    case 'high': return 'high'
    case 'moderate': case 'medium': return 'moderate'
    case 'low': return 'low'
    case 'info': case 'none': case 'informational': return 'info'
    default: return undefined
  }
}

export function scoreToLevel (score: number): Level {
  if (score >= 9) return 'critical'
  if (score >= 7) return 'high'
  if (score >= 4) return 'moderate'
  if (score > 0) return 'low'
  return 'info'
}

/** A numeric score, or the base score of a CVSS v3.x vector; undefined otherwise (CVSS v2/v4 vectors are not computed). */
export function cvssScore (score: unknown): number | undefined {
  if (typeof score === 'number') return Number.isFinite(score) ? score : undefined
  if (typeof score !== 'string') return undefined
  const s = score.trim()
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s)
  if (!/^CVSS:3\.[01]\//.test(s)) return undefined
  const m: Record<string, string> = {}
  for (const part of s.split('/').slice(1)) {
    const [k, val] = part.split(':')
    if (k && val) m[k] = val
  }
  const AV = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 }[m.AV]
  const AC = { L: 0.77, H: 0.44 }[m.AC]
  const scopeChanged = m.S === 'C'
  if (m.S !== 'U' && m.S !== 'C') return undefined
  const PR = (scopeChanged ? { N: 0.85, L: 0.68, H: 0.5 } : { N: 0.85, L: 0.62, H: 0.27 })[m.PR]
  const UI = { N: 0.85, R: 0.62 }[m.UI]
  const cia = (x: string) => ({ H: 0.56, L: 0.22, N: 0 } as Record<string, number>)[x]
  const C = cia(m.C)
  const I = cia(m.I)
  const A = cia(m.A)
  if ([AV, AC, PR, UI, C, I, A].some(x => x === undefined)) return undefined
  const iss = 1 - (1 - C!) * (1 - I!) * (1 - A!)
  const impact = scopeChanged ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss
  if (impact <= 0) return 0
  const exploitability = 8.22 * AV! * AC! * PR! * UI!
  const raw = scopeChanged ? Math.min(1.08 * (impact + exploitability), 10) : Math.min(impact + exploitability, 10)
  return roundUp(raw)
}

// CVSS v3.1 Roundup
function roundUp (x: number): number {
  const i = Math.round(x * 100000)
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10
}

function advisoryUrl (record: OsvRecord): string {
  const refs = record.references ?? []
  const adv = refs.find(r => r?.type === 'ADVISORY' && typeof r.url === 'string')
  if (adv?.url) return adv.url
  return `https://osv.dev/vulnerability/${encodeURIComponent(record.id)}`
}

function firstLine (s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined
  const line = s.trim().split('\n')[0]?.trim()
  return line ? line.slice(0, 200) : undefined
}
