import { describe, expect, it } from 'vitest'
import {
  advisoryViolations, auditTargets, bulkBody, createAdvisoriesCheck, isMalwareAdvisory, matchBulk, mergeFindings, severityAtLeast, summarize,
  type BulkResponse,
} from '../../../lib/evidence/advisories.js'
import type { OsvRecord } from '../../../lib/evidence/osv.js'
import type { AdvisoryFinding } from '../../../lib/types.js'
import { entry, fakeCtx, REGISTRY, verified } from './helpers.js'
import { PUBLIC_REGISTRY } from '../../helpers/registry-host.js'

const response: BulkResponse = {
  minimist: [
    { id: 1096465, url: 'https://github.com/advisories/GHSA-xvch-5gv4-984h', title: 'Prototype Pollution in minimist', severity: 'critical', vulnerable_versions: '<0.2.4', cwe: ['CWE-1321'] },
    { id: 1096466, url: 'https://github.com/advisories/GHSA-vh95-rmgr-6w4m', title: 'Prototype Pollution in minimist', severity: 'moderate', vulnerable_versions: '>=1.0.0 <1.2.3', cwe: ['CWE-1321'] },
  ],
  'evil-pkg': [
    { id: 1100000, url: 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc', title: 'Malware in evil-pkg', severity: 'critical', vulnerable_versions: '>=0', cwe: ['CWE-506'] },
  ],
  lowpkg: [
    { id: 5, title: 'Something low', severity: 'low', vulnerable_versions: '*' },
  ],
}

describe('bulk advisory matching (pure)', () => {
  it('builds the exact installed set', () => {
    expect(bulkBody([{ name: 'b', version: '2.0.0' }, { name: 'a', version: '1.0.0' }, { name: 'b', version: '1.0.0' }, { name: 'b', version: '2.0.0' }]))
      .toEqual({ a: ['1.0.0'], b: ['1.0.0', '2.0.0'] })
  })

  it('matches versions with semver', () => {
    expect(matchBulk(response, 'minimist', '0.2.3').map(f => f.id)).toEqual(['1096465'])
    expect(matchBulk(response, 'minimist', '1.2.2').map(f => f.id)).toEqual(['1096466'])
    expect(matchBulk(response, 'minimist', '1.2.8')).toEqual([])
    expect(matchBulk(response, 'other', '1.0.0')).toEqual([])
    expect(matchBulk(undefined, 'minimist', '0.0.1')).toEqual([])
    const [f] = matchBulk(response, 'minimist', '1.2.0')
    expect(f).toMatchObject({ severity: 'moderate', source: 'registry', malware: false, range: '>=1.0.0 <1.2.3', url: 'https://github.com/advisories/GHSA-vh95-rmgr-6w4m' })
  })

  it('recognises malware by CWE-506 or title', () => {
    expect(matchBulk(response, 'evil-pkg', '1.0.0')[0]).toMatchObject({ malware: true, severity: 'critical' })
    expect(isMalwareAdvisory({ title: 'Malware in foo' })).toBe(true)
    expect(isMalwareAdvisory({ title: 'x', cwe: 'CWE-506' })).toBe(true)
    expect(isMalwareAdvisory({ title: 'Prototype Pollution in foo', cwe: ['CWE-1321'] })).toBe(false)
  })

  it('compares severities against the audit level', () => {
    expect(severityAtLeast('critical', 'none')).toBe(false)
    expect(severityAtLeast('info', 'info')).toBe(true)
    expect(severityAtLeast('moderate', 'high')).toBe(false)
    expect(severityAtLeast('high', 'high')).toBe(true)
    expect(severityAtLeast('critical', 'high')).toBe(true)
    expect(severityAtLeast('low', 'moderate')).toBe(false)
  })

  const e = entry('minimist', '1.2.0')
  const moderate: AdvisoryFinding = { id: '1', title: 't', severity: 'moderate', malware: false, source: 'registry' }
  const high: AdvisoryFinding = { ...moderate, id: '2', severity: 'high' }
  const malware: AdvisoryFinding = { ...moderate, id: '3', severity: 'low', malware: true }

  it('audit-level thresholds: none reports only, levels refuse at or above', () => {
    expect(advisoryViolations(e, [moderate, high], 'none')).toEqual([])
    expect(advisoryViolations(e, [moderate, high], 'critical')).toEqual([])
    const v = advisoryViolations(e, [moderate, high], 'high')
    expect(v).toHaveLength(1)
    expect(v[0]).toMatchObject({ code: 'ESIADVISORY', package: 'minimist@1.2.0', path: 'node_modules/minimist', severity: 'error' })
    expect(v[0].message).toMatch(/1 advisory at or above --audit-level=high/)
    expect(advisoryViolations(e, [moderate, high], 'moderate')[0].message).toMatch(/2 advisories/)
    expect(advisoryViolations(e, [moderate, high], 'info')).toHaveLength(1)
  })

  it('malware is always an error, whatever the audit level', () => {
    const v = advisoryViolations(e, [malware], 'none')
    expect(v).toEqual([expect.objectContaining({ code: 'ESIMALWARE', severity: 'error', package: 'minimist@1.2.0' })])
    expect(advisoryViolations(e, [malware], 'critical').map(x => x.code)).toEqual(['ESIMALWARE'])
  })

  it('drops OSV duplicates of registry findings (GHSA ids)', () => {
    const reg = matchBulk(response, 'minimist', '1.2.0')
    const osv: AdvisoryFinding[] = [
      { id: 'GHSA-vh95-rmgr-6w4m', title: 'dup', severity: 'moderate', malware: false, source: 'osv' },
      { id: 'MAL-1', title: 'new', severity: 'critical', malware: true, source: 'osv' },
    ]
    expect(mergeFindings(reg, osv).map(f => f.id)).toEqual(['1096466', 'MAL-1'])
  })

  it('summarises by severity', () => {
    const m = new Map([['a', [moderate, high]], ['b', []], ['c', [malware]]])
    expect(summarize(m, 3, [])).toBe('3 advisories in 2 of 3 package(s): 1 malware, 1 high, 1 moderate')
    expect(summarize(new Map([['a', []]]), 1, ['registry: x'])).toBe('no advisories for 1 package(s) (registry: x)')
  })

  it('includes bundled entries under their parent registry, skips non-registry sources', () => {
    const parent = entry('@corp/parent', '1.0.0')
    const bundled = entry('inner', '2.0.0', { location: 'node_modules/@corp/parent/node_modules/inner', bundled: true })
    const git = entry('gitdep', '1.0.0', { source: 'git', resolved: 'git+ssh://git@github.com/a/b.git#abc' })
    const targets = auditTargets([verified(parent, 'https://corp.example/')], [parent, bundled, git], () => REGISTRY)
    expect(targets.map(t => [t.entry.location, t.registry])).toEqual([
      ['node_modules/@corp/parent', 'https://corp.example/'],
      ['node_modules/@corp/parent/node_modules/inner', 'https://corp.example/'],
    ])
  })
})

describe('advisories check (fake context)', () => {
  const minimist = entry('minimist', '1.2.0')
  const evil = entry('evil-pkg', '1.0.0')
  const clean = entry('clean', '3.0.0')
  const scoped = entry('@corp/lib', '1.0.0')
  const entries = [minimist, evil, clean, scoped]
  const pkgs = [verified(minimist), verified(evil), verified(clean), verified(scoped, 'https://npm.corp.example/')]

  it('POSTs the installed set per registry and reports findings', async () => {
    const ctx = fakeCtx({
      entries,
      policy: { auditLevel: 'moderate' },
      post: async (url) => url.startsWith(REGISTRY) ? response : {},
    })
    const r = await createAdvisoriesCheck().finish!(pkgs, ctx)
    expect(ctx.posts.map(p => p.url).sort()).toEqual([
      'https://npm.corp.example/-/npm/v1/security/advisories/bulk',
      `${PUBLIC_REGISTRY}-/npm/v1/security/advisories/bulk`,
    ])
    const pub = ctx.posts.find(p => p.url.startsWith(REGISTRY))!
    expect(pub.body).toEqual({ clean: ['3.0.0'], 'evil-pkg': ['1.0.0'], minimist: ['1.2.0'] })
    expect(ctx.posts.find(p => p.url.startsWith('https://npm.corp'))!.body).toEqual({ '@corp/lib': ['1.0.0'] })

    expect(r.evidence!.get('node_modules/minimist')!.advisories!.map(f => f.id)).toEqual(['1096466'])
    expect(r.evidence!.get('node_modules/clean')!.advisories).toEqual([])
    expect(r.evidence!.get('node_modules/@corp/lib')!.advisories).toEqual([])
    expect(r.violations!.map(v => [v.code, v.package])).toEqual([
      ['ESIADVISORY', 'minimist@1.2.0'],
      ['ESIMALWARE', 'evil-pkg@1.0.0'],
    ])
    expect(ctx.notes).toHaveLength(1)
    expect(ctx.notes[0]).toMatchObject({ check: 'advisories', level: 'warning' })
    expect(ctx.notes[0].message).toMatch(/^2 advisories in 2 of 4 package\(s\): 1 malware, 1 moderate/)
  })

  it('default audit level none: reports, refuses only malware', async () => {
    const ctx = fakeCtx({ entries, post: async () => response })
    const r = await createAdvisoriesCheck().finish!(pkgs, ctx)
    expect(r.violations!.map(v => v.code)).toEqual(['ESIMALWARE'])
  })

  it('says advisories could not be checked when no source answers', async () => {
    const ctx = fakeCtx({ entries, post: async () => undefined /* 404 */ })
    const r = await createAdvisoriesCheck().finish!(pkgs, ctx)
    expect(r.violations).toEqual([])
    expect(r.evidence!.size).toBe(0) // unknown, never "clean"
    expect(ctx.notes).toHaveLength(1)
    expect(ctx.notes[0].level).toBe('warning')
    expect(ctx.notes[0].message).toMatch(/^advisories could not be checked: .*answered 404.*not checked: all 4 package\(s\)/)
  })

  it('a failing registry with no files is not clean either', async () => {
    const ctx = fakeCtx({ entries, post: async () => { throw new Error('ECONNREFUSED') } })
    await createAdvisoriesCheck().finish!(pkgs, ctx)
    expect(ctx.notes[0].message).toMatch(/advisories could not be checked: .*ECONNREFUSED/)
  })

  it('registry advisories off and no files: could not be checked', async () => {
    const ctx = fakeCtx({ entries, policy: { registryAdvisories: false } })
    await createAdvisoriesCheck().finish!(pkgs, ctx)
    expect(ctx.posts).toEqual([])
    expect(ctx.notes[0].message).toMatch(/advisories could not be checked: registry advisories are turned off.*no --advisories files/)
  })

  it('partial answer: one registry down, the others checked', async () => {
    const ctx = fakeCtx({ entries, post: async (url) => url.startsWith(REGISTRY) ? response : undefined })
    const r = await createAdvisoriesCheck().finish!(pkgs, ctx)
    expect(r.evidence!.has('node_modules/@corp/lib')).toBe(false)
    expect(r.evidence!.has('node_modules/clean')).toBe(true)
    const warn = ctx.notes.find(n => n.message.startsWith('advisories could not be checked'))
    expect(warn?.message).toMatch(/1 of 4 package\(s\) \(@corp\/lib@1.0.0\)/)
  })

  it('OSV files answer when the registry cannot', async () => {
    const records: OsvRecord[] = [{
      id: 'MAL-2025-9',
      summary: 'Malicious code in clean',
      affected: [{ package: { ecosystem: 'npm', name: 'clean' }, versions: ['3.0.0'] }],
    }]
    const ctx = fakeCtx({ entries, policy: { advisoryFiles: ['/osv'] }, post: async () => { throw new Error('down') } })
    const check = createAdvisoriesCheck({ loadOsv: async (paths) => { expect(paths).toEqual(['/osv']); return { records, files: 1, errors: [] } } })
    const r = await check.finish!(pkgs, ctx)
    expect(r.evidence!.size).toBe(4)
    expect(r.violations).toEqual([expect.objectContaining({ code: 'ESIMALWARE', package: 'clean@3.0.0' })])
    expect(ctx.notes.map(n => n.message).join('\n')).toMatch(/some advisory sources did not answer: .*down/)
    expect(ctx.notes.some(n => n.message.startsWith('advisories could not be checked'))).toBe(false)
  })

  it('offline: registry skipped without a request', async () => {
    const ctx = fakeCtx({ entries, options: { offline: true } })
    await createAdvisoriesCheck().finish!(pkgs, ctx)
    expect(ctx.posts).toEqual([])
    expect(ctx.notes[0].message).toMatch(/--offline/)
  })
})
