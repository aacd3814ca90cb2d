import { describe, expect, it } from 'vitest'

import { buildRecord, serializeRecord } from '../../../lib/record/cyclonedx.js'
import { diffRecords, formatDiff, isEmptyDiff } from '../../../lib/record/diff.js'
import type { RecordComponent, RecordDocument } from '../../../lib/record/document.js'
import type { PackageEvidence, Plan } from '../../../lib/types.js'
import { ENTRIES, fullEvidence, LIBRARIES, makeEntry, makeEvidence, makeOptions, makePlan, TOOL } from './fixtures.js'

function doc (...components: RecordComponent[]): RecordDocument {
  return { bomFormat: 'CycloneDX', specVersion: '1.6', components }
}

function comp (path: string, name: string, version: string, props: Record<string, string> = {}): RecordComponent {
  const scoped = name.startsWith('@')
  return {
    type: 'library',
    name: scoped ? name.split('/')[1] : name,
    group: scoped ? name.split('/')[0] : undefined,
    version,
    'bom-ref': path,
    properties: [
      { name: 'cdx:npm:package:path', value: path },
      ...Object.entries(props).map(([k, v]) => ({ name: `safe-install:${k}`, value: v })),
    ],
  }
}

function recordOf (plan: Plan, evidence: Map<string, PackageEvidence>): RecordDocument {
  const bom = buildRecord({ plan, evidence, options: makeOptions(), command: 'safe-install ci', tool: TOOL, libraries: LIBRARIES, notes: [] })
  return JSON.parse(serializeRecord(bom, '1.6'))
}

describe('diffRecords on hand-made pairs', () => {
  it('identical records: empty diff', () => {
    const a = doc(comp('node_modules/a', 'a', '1.0.0', { provenance: 'verified' }))
    const d = diffRecords(a, structuredClone(a))
    expect(isEmptyDiff(d)).toBe(true)
    expect(formatDiff(d)).toBe('no changes since the last install')
  })

  it('added, removed and version changes, keyed by path', () => {
    const before = doc(
      comp('node_modules/a', 'a', '1.0.0'),
      comp('node_modules/b', 'b', '1.0.0'),
      comp('node_modules/x/node_modules/a', 'a', '0.9.0'),
    )
    const after = doc(
      comp('node_modules/a', 'a', '1.1.0'),
      comp('node_modules/c', 'c', '2.0.0'),
      comp('node_modules/x/node_modules/a', 'a', '0.9.0'),
    )
    const d = diffRecords(before, after)
    expect(d.added).toEqual([{ name: 'c', path: 'node_modules/c', version: '2.0.0' }])
    expect(d.removed).toEqual([{ name: 'b', path: 'node_modules/b', version: '1.0.0' }])
    expect(d.changed).toEqual([{ name: 'a', path: 'node_modules/a', from: '1.0.0', to: '1.1.0' }])
    expect(d.evidenceChanged).toEqual([])
    const text = formatDiff(d)
    expect(text).toContain('1 added, 1 removed, 1 updated')
    expect(text).toContain('+ c@2.0.0  node_modules/c')
    expect(text).toContain('- b@1.0.0  node_modules/b')
    expect(text).toContain('~ a 1.0.0 -> 1.1.0  node_modules/a')
  })

  it('a different package at the same path is removed + added', () => {
    const d = diffRecords(doc(comp('node_modules/a', 'a', '1.0.0')), doc(comp('node_modules/a', 'evil-a', '1.0.0')))
    expect(d.removed).toEqual([{ name: 'a', path: 'node_modules/a', version: '1.0.0' }])
    expect(d.added).toEqual([{ name: 'evil-a', path: 'node_modules/a', version: '1.0.0' }])
    expect(d.changed).toEqual([])
  })

  it('falls back to the name when a component has no path', () => {
    const noPath = (name: string, version: string): RecordComponent => ({ type: 'library', name, version })
    const d = diffRecords(doc(noPath('a', '1.0.0')), doc(noPath('a', '2.0.0')))
    expect(d.changed).toEqual([{ name: 'a', path: 'a', from: '1.0.0', to: '2.0.0' }])
  })

  it('no previous record: everything is added', () => {
    const d = diffRecords(undefined, doc(comp('node_modules/@s/a', '@s/a', '1.0.0')))
    expect(d.added).toEqual([{ name: '@s/a', path: 'node_modules/@s/a', version: '1.0.0' }])
  })

  it('provenance verified -> absent, signature change, trust downgrade appearing, scripts gained', () => {
    const before = doc(comp('node_modules/a', 'a', '1.0.0', {
      signature: 'verified', provenance: 'verified', 'provenance:source-repository': 'https://github.com/o/a',
      trust: '3', 'trust:downgrade': 'false', scripts: 'none', 'provenance:commit': 'aaa',
    }))
    const after = doc(comp('node_modules/a', 'a', '1.0.1', {
      signature: 'invalid', provenance: 'absent', trust: '1', 'trust:downgrade': 'true', scripts: 'postinstall', 'provenance:commit': 'bbb',
    }))
    const d = diffRecords(before, after)
    expect(d.changed).toEqual([{ name: 'a', path: 'node_modules/a', from: '1.0.0', to: '1.0.1' }])
    const fields = Object.fromEntries(d.evidenceChanged.map((e) => [e.field, [e.from, e.to]]))
    expect(fields).toEqual({
      signature: ['verified', 'invalid'],
      provenance: ['verified', 'absent'],
      trust: ['3', '1'],
      'trust:downgrade': ['false', 'true'],
      scripts: ['none', 'postinstall'],
      // the source repository exists only in the old record: not reported on its own; commit is a detail
    })
    const text = formatDiff(d)
    expect(text).toContain('! a provenance: verified -> absent  node_modules/a')
    expect(text).toContain('! a trust downgrade: false -> true  node_modules/a')
    expect(text).toContain('! a scripts: none -> postinstall')
  })

  it('source repository change is reported', () => {
    const d = diffRecords(
      doc(comp('node_modules/a', 'a', '1.0.0', { 'provenance:source-repository': 'https://github.com/o/a' })),
      doc(comp('node_modules/a', 'a', '1.0.1', { 'provenance:source-repository': 'https://github.com/evil/a' })),
    )
    expect(d.evidenceChanged).toEqual([{ name: 'a', path: 'node_modules/a', field: 'provenance:source-repository', from: 'https://github.com/o/a', to: 'https://github.com/evil/a' }])
  })

  it('integrity change is reported only for the same version', () => {
    const same = diffRecords(
      doc(comp('node_modules/a', 'a', '1.0.0', { integrity: 'sha512-AAA' })),
      doc(comp('node_modules/a', 'a', '1.0.0', { integrity: 'sha512-BBB' })),
    )
    expect(same.evidenceChanged.map((e) => e.field)).toEqual(['integrity'])
    const bumped = diffRecords(
      doc(comp('node_modules/a', 'a', '1.0.0', { integrity: 'sha512-AAA' })),
      doc(comp('node_modules/a', 'a', '1.0.1', { integrity: 'sha512-BBB' })),
    )
    expect(bumped.evidenceChanged).toEqual([])
  })

  it('scan capabilities gained (not when the old record was not scanned)', () => {
    const d = diffRecords(
      doc(
        comp('node_modules/a', 'a', '1.0.0', { 'scan:capabilities': 'network' }),
        comp('node_modules/b', 'b', '1.0.0', { 'scan:capabilities': 'not-checked' }),
        comp('node_modules/c', 'c', '1.0.0', { 'scan:capabilities': 'none' }),
      ),
      doc(
        comp('node_modules/a', 'a', '1.0.1', { 'scan:capabilities': 'child_process,network,eval' }),
        comp('node_modules/b', 'b', '1.0.0', { 'scan:capabilities': 'network' }),
        comp('node_modules/c', 'c', '1.0.0', { 'scan:capabilities': 'none' }),
      ),
    )
    expect(d.capabilitiesGained).toEqual([{ name: 'a', path: 'node_modules/a', capabilities: ['child_process', 'eval'] }])
    expect(formatDiff(d)).toContain('! a gained capabilities: child_process, eval  node_modules/a')
  })

  it('a field missing from the old record (older format) is not a change', () => {
    const d = diffRecords(doc(comp('node_modules/a', 'a', '1.0.0')), doc(comp('node_modules/a', 'a', '1.0.0', { identity: 'match' })))
    expect(isEmptyDiff(d)).toBe(true)
  })
})

describe('diffRecords on built records', () => {
  it('same plan and evidence: no changes', () => {
    const a = recordOf(makePlan(), makeEvidence())
    const b = recordOf(makePlan(), makeEvidence())
    expect(formatDiff(diffRecords(a, b))).toBe('no changes since the last install')
  })

  it('detects an update that lost provenance, gained a script and a capability', () => {
    const before = recordOf(makePlan(), makeEvidence())
    const plan = makePlan()
    const entries = plan.entries.map((e) => e.location === ENTRIES.plain.location ? { ...e, version: '1.3.0' } : e)
      .concat(makeEntry({ location: 'node_modules/newdep', name: 'newdep' }))
      .filter((e) => e.location !== ENTRIES.dev.location)
    const evidence = makeEvidence()
    evidence.set(ENTRIES.plain.location, fullEvidence({
      provenance: { status: 'absent' },
      identity: { status: 'not-checked' },
      trust: { level: 1, downgrade: true, previous: { version: '1.2.3', level: 3 } },
      scripts: ['postinstall'],
      scan: { capabilities: ['network', 'child_process'], findings: [] },
    }))
    const after = recordOf({ ...plan, entries }, evidence)
    const d = diffRecords(before, after)
    expect(d.added.map((p) => p.path)).toEqual(['node_modules/newdep'])
    expect(d.removed.map((p) => p.path)).toEqual([ENTRIES.dev.location])
    expect(d.changed).toEqual([{ name: 'plain', path: ENTRIES.plain.location, from: '1.2.3', to: '1.3.0' }])
    const plain = d.evidenceChanged.filter((e) => e.path === ENTRIES.plain.location)
    expect(Object.fromEntries(plain.map((e) => [e.field, `${e.from} -> ${e.to}`]))).toEqual({
      provenance: 'verified -> absent',
      'trust:downgrade': 'false -> true',
      trust: '3 -> 1',
      scripts: 'none -> postinstall',
      identity: 'match -> not-checked',
      advisories: 'GHSA-aaaa-bbbb-cccc -> none',
    })
    expect(d.capabilitiesGained).toEqual([{ name: 'plain', path: ENTRIES.plain.location, capabilities: ['child_process'] }])
  })
})
