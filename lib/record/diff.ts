// What changed since the last install: a pure comparison of two records,
// keyed by install path (`cdx:npm:package:path`, falling back to the name).
// Reports version changes and, for packages present in both, the evidence
// that matters: signature, provenance, identity, trust, scripts, advisories,
// capabilities gained.
import type { RecordComponent, RecordDocument } from './document.js'

const PATH = 'cdx:npm:package:path'
const NS = 'safe-install:'
const NOT_CHECKED = 'not-checked'

export interface DiffPackage {
  readonly name: string
  readonly path: string
  readonly version?: string
}

export interface DiffVersionChange {
  readonly name: string
  readonly path: string
  readonly from: string
  readonly to: string
}

export interface DiffEvidenceChange {
  readonly name: string
  readonly path: string
  /** the property name without the `safe-install:` prefix, e.g. `provenance`, `trust:downgrade` */
  readonly field: string
  readonly from: string
  readonly to: string
}

export interface DiffCapabilities {
  readonly name: string
  readonly path: string
  readonly capabilities: readonly string[]
}

export interface RecordDiff {
  readonly added: readonly DiffPackage[]
  readonly removed: readonly DiffPackage[]
  readonly changed: readonly DiffVersionChange[]
  readonly evidenceChanged: readonly DiffEvidenceChange[]
  readonly capabilitiesGained: readonly DiffCapabilities[]
}

/**
 * Evidence fields compared between two records (property names without the
 * `safe-install:` prefix). Detail fields (commit, log index, key id...) change
 * with every release and are left out; `integrity` is compared only when the
 * version is the same (a republished version).
 */
export const TRACKED_FIELDS = [
  'source',
  'signature',
  'provenance',
  'provenance:source-repository',
  'identity',
  'trust',
  'trust:downgrade',
  'scripts',
  'advisories',
] as const

interface Indexed {
  readonly name: string
  readonly path: string
  readonly version: string
  readonly props: ReadonlyMap<string, string>
}

function fullName (c: RecordComponent): string {
  return c.group ? `${c.group}/${c.name}` : c.name
}

function index (doc: RecordDocument | undefined | null): Map<string, Indexed> {
  const out = new Map<string, Indexed>()
  const visit = (components: readonly RecordComponent[] | undefined): void => {
    for (const c of components ?? []) {
      const props = new Map<string, string>()
      for (const p of c.properties ?? []) {
        // first value wins (multi-valued ones like scan findings are not compared)
        if (!props.has(p.name)) props.set(p.name, p.value ?? '')
      }
      const name = fullName(c)
      const version = c.version ?? ''
      let key = props.get(PATH) || name
      if (out.has(key)) key = `${key}@${version}`
      let n = 2
      while (out.has(key)) key = `${props.get(PATH) || name}#${n++}`
      out.set(key, { name, path: props.get(PATH) || name, version, props })
      visit(c.components)
    }
  }
  visit(doc?.components)
  return out
}

function capabilities (value: string | undefined): string[] | undefined {
  if (value === undefined || value === NOT_CHECKED) return undefined
  if (value === '' || value === 'none') return []
  return value.split(',').map((s) => s.trim()).filter(Boolean)
}

const byPath = <T extends { path: string, name: string }>(a: T, b: T): number =>
  a.path < b.path ? -1 : a.path > b.path ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0

/** Compare the previous record (or none) with the new one. */
export function diffRecords (previous: RecordDocument | undefined | null, next: RecordDocument): RecordDiff {
  const before = index(previous)
  const after = index(next)
  const added: DiffPackage[] = []
  const removed: DiffPackage[] = []
  const changed: DiffVersionChange[] = []
  const evidenceChanged: DiffEvidenceChange[] = []
  const capabilitiesGained: DiffCapabilities[] = []

  for (const [key, a] of after) {
    const b = before.get(key)
    if (b === undefined || b.name !== a.name) {
      added.push({ name: a.name, path: a.path, version: a.version || undefined })
      if (b !== undefined) removed.push({ name: b.name, path: b.path, version: b.version || undefined })
      continue
    }
    const sameVersion = a.version === b.version
    if (!sameVersion) changed.push({ name: a.name, path: a.path, from: b.version, to: a.version })

    const fields: string[] = [...TRACKED_FIELDS]
    if (sameVersion) fields.push('integrity')
    for (const field of fields) {
      const from = b.props.get(NS + field)
      const to = a.props.get(NS + field)
      // a field only one record has (older format) is not a change
      if (from === undefined || to === undefined || from === to) continue
      evidenceChanged.push({ name: a.name, path: a.path, field, from, to })
    }

    const capsBefore = capabilities(b.props.get(`${NS}scan:capabilities`))
    const capsAfter = capabilities(a.props.get(`${NS}scan:capabilities`))
    if (capsBefore !== undefined && capsAfter !== undefined) {
      const had = new Set(capsBefore)
      const gained = capsAfter.filter((c) => !had.has(c))
      if (gained.length > 0) capabilitiesGained.push({ name: a.name, path: a.path, capabilities: gained })
    }
  }
  for (const [key, b] of before) {
    if (!after.has(key)) removed.push({ name: b.name, path: b.path, version: b.version || undefined })
  }

  return {
    added: added.sort(byPath),
    removed: removed.sort(byPath),
    changed: changed.sort(byPath),
    evidenceChanged: evidenceChanged.sort((x, y) => byPath(x, y) || (x.field < y.field ? -1 : x.field > y.field ? 1 : 0)),
    capabilitiesGained: capabilitiesGained.sort(byPath),
  }
}

/** The diff of two records of the same packages with the same evidence. */
export function noChanges (): RecordDiff {
  return { added: [], removed: [], changed: [], evidenceChanged: [], capabilitiesGained: [] }
}

export function isEmptyDiff (diff: RecordDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0 &&
    diff.evidenceChanged.length === 0 && diff.capabilitiesGained.length === 0
}

const FIELD_LABEL: Record<string, string> = {
  'trust:downgrade': 'trust downgrade',
  'provenance:source-repository': 'provenance repository',
  integrity: 'integrity (same version: republished?)',
}

function spec (p: DiffPackage): string {
  return p.version ? `${p.name}@${p.version}` : p.name
}

function plural (n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

/** A short human summary; "no changes since the last install" when empty. */
export function formatDiff (diff: RecordDiff): string {
  if (isEmptyDiff(diff)) return 'no changes since the last install'
  const counts: string[] = []
  if (diff.added.length) counts.push(`${diff.added.length} added`)
  if (diff.removed.length) counts.push(`${diff.removed.length} removed`)
  if (diff.changed.length) counts.push(`${diff.changed.length} updated`)
  if (diff.evidenceChanged.length) counts.push(plural(diff.evidenceChanged.length, 'evidence change'))
  if (diff.capabilitiesGained.length) counts.push(plural(diff.capabilitiesGained.length, 'package', 'packages') + ' gained capabilities')
  const lines = [`since the last install: ${counts.join(', ')}`]
  for (const p of diff.added) lines.push(`  + ${spec(p)}  ${p.path}`)
  for (const p of diff.removed) lines.push(`  - ${spec(p)}  ${p.path}`)
  for (const c of diff.changed) lines.push(`  ~ ${c.name} ${c.from} -> ${c.to}  ${c.path}`)
  for (const e of diff.evidenceChanged) {
    lines.push(`  ! ${e.name} ${FIELD_LABEL[e.field] ?? e.field}: ${e.from} -> ${e.to}  ${e.path}`)
  }
  for (const g of diff.capabilitiesGained) {
    lines.push(`  ! ${g.name} gained capabilities: ${g.capabilities.join(', ')}  ${g.path}`)
  }
  return lines.join('\n')
}
