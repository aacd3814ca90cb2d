// Advisories and malware (SCVS 4.6-4.9) through the real CLI: the fixture
// registry's bulk advisory endpoint, and OSV files given with --advisories.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { diffTrees, snapshotTree } from '../../helpers/tree.js'
import { codes, setup, type Setup } from '../helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

const PACKAGES = [
  { name: 'vuln', version: '1.0.2' },
  { name: 'clean', version: '1.0.0' },
]
const PROJECT = { dependencies: { vuln: '1.0.2', clean: '1.0.0' } }

const HIGH = {
  id: 1101,
  url: 'https://github.com/advisories/GHSA-2222-3333-4444',
  title: 'Prototype Pollution in vuln',
  severity: 'high',
  vulnerable_versions: '<1.0.5',
  cwe: ['CWE-1321'],
}

const nm = () => path.join(s!.project.dir, 'node_modules')
const recordOf = () => JSON.parse(fs.readFileSync(path.join(nm(), '.safe-install', 'record.cdx.json'), 'utf8'))
const propOf = (c: any, name: string) => c.properties?.find((p: any) => p.name === name)?.value
const componentAt = (doc: any, loc: string) => doc.components.find((c: any) => propOf(c, 'cdx:npm:package:path') === loc)
const evidenceOf = (report: any, name: string) => report.packages.find((p: any) => p.name === name)?.evidence
/** the whole output, so an unexpected exit code says why */
const why = (r: { report?: any, stdout?: string, stderr: string }) => `${r.report ? JSON.stringify(r.report, null, 1) : r.stdout}\n${r.stderr}`

function writeOsv (file: string, record: unknown): string {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(record, null, 2))
  return file
}

describe('registry advisories (bulk endpoint)', () => {
  it('a high advisory is reported (aliases included), installs by default, and lands in the record as a vulnerability', async () => {
    s = await setup(PACKAGES, { dependencies: { ...PROJECT.dependencies, aka: 'npm:vuln@1.0.2' } })
    s.registry.setAdvisories({ vuln: [HIGH], clean: [{ ...HIGH, id: 1102, title: 'old bug in clean', vulnerable_versions: '<1.0.0' }] })
    const first = await s.siJson(['ci'])
    const { code, report } = first
    expect(code, why(first)).toBe(0)
    // the exact installed set was asked for
    const audit = s.registry.requests.filter(r => r.method === 'POST' && r.path.includes('/advisories/bulk'))
    expect(audit).toHaveLength(1)
    expect(JSON.parse(audit[0]!.body!)).toEqual({ clean: ['1.0.0'], vuln: ['1.0.2'] })

    const found = evidenceOf(report, 'vuln').advisories
    expect(found).toEqual([expect.objectContaining({ id: '1101', severity: 'high', malware: false, source: 'registry', range: '<1.0.5', title: 'Prototype Pollution in vuln' })])
    // the alias is the same package under another folder name: same finding
    expect(report.packages.find((p: any) => p.path === 'node_modules/aka').evidence.advisories).toEqual(found)
    expect(evidenceOf(report, 'clean').advisories).toEqual([])
    expect(report.notes).toContainEqual(expect.objectContaining({ check: 'advisories', level: 'warning', message: expect.stringMatching(/^\d advisor(y|ies) in 2 of 3 package\(s\): \d high/) }))
    expect(fs.existsSync(path.join(nm(), 'vuln/package.json'))).toBe(true)

    // the record: a vulnerability affecting the installed location
    const doc = recordOf()
    expect(doc.vulnerabilities).toHaveLength(1)
    const v = doc.vulnerabilities[0]
    expect(v).toMatchObject({ id: '1101', description: 'Prototype Pollution in vuln', 'bom-ref': 'registry:1101' })
    expect(v.ratings).toEqual([expect.objectContaining({ severity: 'high' })])
    expect(v.source).toMatchObject({ name: 'npm registry', url: HIGH.url })
    // one vulnerability, affecting both places it is installed
    expect(v.affects).toEqual(expect.arrayContaining([
      { ref: 'node_modules/vuln', versions: [{ version: '1.0.2', status: 'affected' }] },
      { ref: 'node_modules/aka', versions: [{ version: '1.0.2', status: 'affected' }] },
    ]))
    expect(v.affects).toHaveLength(2)
    expect(v.properties).toContainEqual({ name: 'safe-install:advisory:range', value: '<1.0.5' })
    expect(v.properties).toContainEqual({ name: 'safe-install:malware', value: 'false' })
    expect(propOf(componentAt(doc, 'node_modules/vuln'), 'safe-install:advisories')).toBe('1101')
    expect(propOf(componentAt(doc, 'node_modules/clean'), 'safe-install:advisories')).toBe('none')

    // human output says it, and still installs
    const human = await s.si(['ci'])
    expect(human.code, why(human)).toBe(0)
    expect(human.stdout).toMatch(/warn \[advisories\] \d advisor(y|ies) in 2 of 3 package\(s\): \d high/)
  })

  it('--audit-level high refuses it (ESIADVISORY, exit 7) and writes nothing; --audit-level critical lets it through', async () => {
    s = await setup(PACKAGES, PROJECT)
    expect((await s.si(['ci'])).code).toBe(0)
    const before = snapshotTree(nm())
    s.registry.setAdvisories({ vuln: [HIGH] })

    const refused = await s.siJson(['ci', '--audit-level', 'high'])
    const { code, report } = refused
    expect(code, why(refused)).toBe(7)
    expect(codes(report)).toEqual(['ESIADVISORY'])
    expect(report.violations[0]).toMatchObject({ package: 'vuln@1.0.2', path: 'node_modules/vuln' })
    expect(report.violations[0].message).toMatch(/1101 \(high, <1\.0\.5\) Prototype Pollution in vuln/)
    expect(report.violations[0].fix).toMatch(/audit-level/)
    expect(diffTrees(before, snapshotTree(nm()))).toEqual([])

    const human = await s.si(['ci', '--audit-level', 'moderate'])
    expect(human.code, why(human)).toBe(7)
    expect(human.stderr).toMatch(/error ESIADVISORY vuln@1\.0\.2 \(node_modules\/vuln\)/)
    expect(diffTrees(before, snapshotTree(nm()))).toEqual([])

    const critical = await s.siJson(['ci', '--audit-level', 'critical'])
    expect(critical.code, why(critical)).toBe(0)

    // package.json "safeInstall": { "auditLevel": "high" } does the same
    const pj = path.join(s.project.dir, 'package.json')
    fs.writeFileSync(pj, JSON.stringify({ ...JSON.parse(fs.readFileSync(pj, 'utf8')), safeInstall: { auditLevel: 'high' } }, null, 2))
    const fromPkg = await s.siJson(['ci'])
    expect(fromPkg.code, why(fromPkg)).toBe(7)
    expect(codes(fromPkg.report)).toEqual(['ESIADVISORY'])

    // npm's own audit-level (.npmrc) is honoured too, and wins over package.json
    fs.writeFileSync(pj, JSON.stringify({ ...JSON.parse(fs.readFileSync(pj, 'utf8')), safeInstall: { auditLevel: 'critical' } }, null, 2))
    expect((await s.siJson(['ci'])).code).toBe(0)
    fs.appendFileSync(s.project.userconfig, 'audit-level=high\n')
    const fromNpmrc = await s.siJson(['ci'])
    expect(fromNpmrc.code, why(fromNpmrc)).toBe(7)
    expect(codes(fromNpmrc.report)).toEqual(['ESIADVISORY'])
  })

  it('malware (CWE-506, or a "Malware in" title) is refused whatever the audit level (ESIMALWARE)', async () => {
    s = await setup(PACKAGES, PROJECT)
    expect((await s.si(['ci'])).code).toBe(0)
    const before = snapshotTree(nm())

    s.registry.setAdvisories({ vuln: [{ id: 1200, url: 'https://github.com/advisories/GHSA-5555-6666-7777', title: 'Embedded code in vuln', severity: 'low', vulnerable_versions: '>=0', cwe: ['CWE-506'] }] })
    const byCwe = await s.siJson(['ci'])
    expect(byCwe.code, why(byCwe)).toBe(7)
    expect(codes(byCwe.report)).toEqual(['ESIMALWARE'])
    expect(byCwe.report.violations[0].message).toMatch(/vuln@1\.0\.2 is flagged as malware/)
    expect(diffTrees(before, snapshotTree(nm()))).toEqual([])
    // the same inputs: the tree was staged while the advisories were asked, and removed
    expect(fs.readdirSync(s.project.dir).filter(f => f.startsWith('.safe-install-'))).toEqual([])

    s.registry.setAdvisories({ clean: [{ id: 1201, url: 'https://github.com/advisories/GHSA-7777-8888-9999', title: 'Malware in clean', severity: 'critical', vulnerable_versions: '*' }] })
    const byTitle = await s.siJson(['ci', '--audit-level', 'none'])
    expect(byTitle.code, why(byTitle)).toBe(7)
    expect(codes(byTitle.report)).toEqual(['ESIMALWARE'])
    expect(byTitle.report.violations[0].path).toBe('node_modules/clean')
    expect(diffTrees(before, snapshotTree(nm()))).toEqual([])

    const human = await s.si(['ci'])
    expect(human.code, why(human)).toBe(7)
    expect(human.stderr).toMatch(/error ESIMALWARE clean@1\.0\.0/)
    expect(human.stderr).toMatch(/fix: remove clean/)
  })

  it('an unreachable endpoint (500s, resets) and no files: "advisories could not be checked", exit 0', async () => {
    s = await setup(PACKAGES, PROJECT)
    s.registry.setAdvisories({ vuln: [HIGH] })
    fs.appendFileSync(s.project.userconfig, 'fetch-retries=1\nfetch-retry-mintimeout=10\nfetch-retry-maxtimeout=50\n')
    s.registry.failNext(/advisories\/bulk/, 50, '500')
    const r = await s.si(['ci'])
    expect(r.code, why(r)).toBe(0)
    expect(r.stdout).toMatch(/warn \[advisories\] advisories could not be checked: .*advisories\/bulk answered HTTP 500/)
    expect(r.stdout).toMatch(/not checked: all 2 package\(s\)/)
    expect(r.stdout).toMatch(/Pass --advisories <osv-dir>/)
    expect(fs.existsSync(path.join(nm(), 'vuln/package.json'))).toBe(true)
    // the record says the advisories were not checked, with the run-wide reason
    const doc = recordOf()
    expect(doc.vulnerabilities ?? []).toEqual([])
    expect(propOf(componentAt(doc, 'node_modules/vuln'), 'safe-install:advisories')).toBe('not-checked')
    expect(propOf(componentAt(doc, 'node_modules/vuln'), 'safe-install:advisories:reason')).toBeTruthy()
    expect(doc.metadata.properties.find((p: any) => p.name === 'safe-install:note:advisories').value).toMatch(/^warning: advisories could not be checked/)

    // --audit-level set: an unchecked audit is a warning, not a refusal
    s.registry.failNext(/advisories\/bulk/, 50, 'reset')
    const j = await s.siJson(['ci', '--audit-level', 'high'])
    expect(j.code, why(j)).toBe(0)
    expect(j.report.notes).toContainEqual(expect.objectContaining({ check: 'advisories', level: 'warning', message: expect.stringMatching(/^advisories could not be checked/) }))
    expect(evidenceOf(j.report, 'vuln').advisories).toBeUndefined()
  })
})

describe('OSV advisory files (--advisories)', () => {
  it('a MAL- record refuses the package (ESIMALWARE); a SEMVER range record is reported with its range', async () => {
    s = await setup(PACKAGES, PROJECT)
    const dir = path.join(s.project.root, 'osv')
    writeOsv(path.join(dir, 'malicious', 'MAL-2026-1.json'), {
      schema_version: '1.6.0',
      id: 'MAL-2026-1',
      modified: '2026-01-01T00:00:00Z',
      summary: 'Malicious code in clean (npm)',
      affected: [{ package: { ecosystem: 'npm', name: 'clean' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }],
    })
    writeOsv(path.join(dir, 'GHSA-abcd-efgh-jkmp.json'), {
      schema_version: '1.6.0',
      id: 'GHSA-abcd-efgh-jkmp',
      modified: '2026-01-01T00:00:00Z',
      summary: 'ReDoS in vuln',
      affected: [{ package: { ecosystem: 'npm', name: 'vuln' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { fixed: '1.0.5' }] }] }],
      database_specific: { severity: 'MODERATE' },
      references: [{ type: 'ADVISORY', url: 'https://github.com/advisories/GHSA-abcd-efgh-jkmp' }],
    })
    // a range that does not reach the installed version is not reported
    writeOsv(path.join(dir, 'GHSA-old.json'), {
      id: 'GHSA-mmmm-pppp-qqqq',
      summary: 'fixed long ago',
      affected: [{ package: { ecosystem: 'npm', name: 'vuln' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.1' }] }] }],
    })

    const refused = await s.siJson(['ci', '--advisories', dir, '--no-registry-advisories'])
    expect(refused.code, why(refused)).toBe(7)
    expect(codes(refused.report)).toEqual(['ESIMALWARE'])
    expect(refused.report.violations[0]).toMatchObject({ package: 'clean@1.0.0', path: 'node_modules/clean' })
    expect(refused.report.violations[0].message).toMatch(/MAL-2026-1/)
    expect(fs.existsSync(nm())).toBe(false)

    // without the malware record: the range record is reported, and installs
    fs.rmSync(path.join(dir, 'malicious'), { recursive: true })
    const reported = await s.siJson(['ci', '--advisories', dir, '--no-registry-advisories'])
    const { code, report } = reported
    expect(code, why(reported)).toBe(0)
    expect(evidenceOf(report, 'vuln').advisories).toEqual([expect.objectContaining({
      id: 'GHSA-abcd-efgh-jkmp', severity: 'moderate', source: 'osv', malware: false, range: '>=1.0.0 <1.0.5',
    })])
    expect(evidenceOf(report, 'clean').advisories).toEqual([])
    expect(report.notes).toContainEqual(expect.objectContaining({ check: 'advisories', message: expect.stringMatching(/1 moderate \(2 OSV record\(s\) from 2 file\(s\)\)/) }))
    const doc = recordOf()
    expect(doc.vulnerabilities).toEqual([expect.objectContaining({ id: 'GHSA-abcd-efgh-jkmp', 'bom-ref': 'osv:GHSA-abcd-efgh-jkmp' })])
    expect(doc.vulnerabilities[0].source).toMatchObject({ name: 'OSV', url: 'https://github.com/advisories/GHSA-abcd-efgh-jkmp' })
    expect(doc.vulnerabilities[0].ratings).toEqual([expect.objectContaining({ severity: 'medium' })])
    expect(doc.vulnerabilities[0].properties).toContainEqual({ name: 'safe-install:advisory:range', value: '>=1.0.0 <1.0.5' })

    // with --audit-level moderate it is refused
    const strict = await s.siJson(['ci', '--advisories', dir, '--no-registry-advisories', '--audit-level', 'moderate'])
    expect(strict.code, why(strict)).toBe(7)
    expect(codes(strict.report)).toEqual(['ESIADVISORY'])
  })

  it('registry and OSV findings for the same advisory are merged; OSV files still check when the endpoint is down', async () => {
    s = await setup(PACKAGES, PROJECT)
    fs.appendFileSync(s.project.userconfig, 'fetch-retries=0\n')
    const file = writeOsv(path.join(s.project.root, 'one.json'), [{
      id: 'GHSA-2222-3333-4444',
      summary: 'Prototype Pollution in vuln',
      affected: [{ package: { ecosystem: 'npm', name: 'vuln' }, versions: ['1.0.2'] }],
      database_specific: { severity: 'HIGH' },
    }])
    // the registry knows it too (its url names the same GHSA): reported once, from the registry
    s.registry.setAdvisories({ vuln: [HIGH] })
    const up = await s.siJson(['ci', '--advisories', file])
    expect(up.code, why(up)).toBe(0)
    expect(evidenceOf(up.report, 'vuln').advisories).toEqual([expect.objectContaining({ id: '1101', source: 'registry' })])

    // the endpoint down: the file still checks every package
    s.registry.failNext(/advisories\/bulk/, 50, '500')
    const down = await s.siJson(['ci', '--advisories', file])
    expect(down.code, why(down)).toBe(0)
    expect(evidenceOf(down.report, 'vuln').advisories).toEqual([expect.objectContaining({ id: 'GHSA-2222-3333-4444', source: 'osv', severity: 'high', range: '=1.0.2 (listed)' })])
    expect(evidenceOf(down.report, 'clean').advisories).toEqual([])
    const messages = down.report.notes.filter((n: any) => n.check === 'advisories').map((n: any) => n.message).join('\n')
    expect(messages).toMatch(/some advisory sources did not answer/)
    expect(messages).not.toMatch(/could not be checked/)
  })
})
