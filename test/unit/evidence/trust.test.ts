import { describe, expect, it } from 'vitest'
import { assessTrust, trustCheck, trustLevelOf, trustViolations } from '../../../lib/evidence/trust.js'
import { EvidenceRun } from '../../../lib/evidence/run.js'
import { defaultPolicy, fakeCtx, fakeOptions, fakePkg, PROXY, PUBLIC, REAL_INTEGRITY } from './helpers.js'

const sig = { signatures: [{ keyid: 'k', sig: 's' }] }
const prov = { ...sig, attestations: { url: 'u', provenance: { predicateType: 'https://slsa.dev/provenance/v1' } } }
const tp = { _npmUser: { name: 'GitHub Actions', trustedPublisher: { id: 'github', oidcConfigId: 'x' } } }

function packument (versions: Record<string, { at: string, dist?: any, extra?: any }>) {
  return {
    name: 'pkg',
    time: Object.fromEntries(Object.entries(versions).map(([v, d]) => [v, d.at])),
    versions: Object.fromEntries(Object.entries(versions).map(([v, d]) => [v, { version: v, dist: { ...d.dist }, ...d.extra }])),
  }
}

describe('trustLevelOf', () => {
  it('ranks 3 trusted publisher + provenance, 2 provenance, 1 signature, 0 nothing', () => {
    expect(trustLevelOf({ dist: prov, ...tp })).toBe(3)
    expect(trustLevelOf({ dist: prov })).toBe(2)
    expect(trustLevelOf({ dist: sig, ...tp })).toBe(1)
    expect(trustLevelOf({ dist: sig })).toBe(1)
    expect(trustLevelOf({ dist: {} })).toBe(0)
    expect(trustLevelOf(undefined)).toBe(0)
  })
})

describe('assessTrust', () => {
  it('flags a version weaker than an earlier one', () => {
    const p = packument({
      '1.0.0': { at: '2024-01-01T00:00:00Z', dist: prov, extra: tp },
      '1.1.0': { at: '2024-02-01T00:00:00Z', dist: prov, extra: tp },
      '1.2.0': { at: '2024-03-01T00:00:00Z', dist: sig },
    })
    expect(assessTrust(p, '1.2.0')).toMatchObject({ level: 1, downgrade: true, previous: { version: '1.1.0', level: 3 } })
    expect(assessTrust(p, '1.1.0')).toMatchObject({ level: 3, downgrade: false })
  })

  it('compares by publish time, not by version number', () => {
    // 2.0.0 (with provenance) was published AFTER 1.5.0: 1.5.0 is no downgrade
    const p = packument({
      '1.0.0': { at: '2024-01-01T00:00:00Z', dist: sig },
      '1.5.0': { at: '2024-02-01T00:00:00Z', dist: sig },
      '2.0.0': { at: '2024-03-01T00:00:00Z', dist: prov },
      '1.6.0': { at: '2024-04-01T00:00:00Z', dist: sig },
    })
    expect(assessTrust(p, '1.5.0').downgrade).toBe(false)
    // but a 1.x backport published after 2.0.0 is
    expect(assessTrust(p, '1.6.0')).toMatchObject({ downgrade: true, previous: { version: '2.0.0', level: 2 } })
  })

  it('ignores earlier prereleases for a release, counts them for a prerelease', () => {
    const p = packument({
      '1.0.0': { at: '2024-01-01T00:00:00Z', dist: sig },
      '2.0.0-beta.1': { at: '2024-02-01T00:00:00Z', dist: prov },
      '1.0.1': { at: '2024-03-01T00:00:00Z', dist: sig },
      '2.0.0-beta.2': { at: '2024-04-01T00:00:00Z', dist: sig },
    })
    expect(assessTrust(p, '1.0.1').downgrade).toBe(false)
    expect(assessTrust(p, '2.0.0-beta.2').downgrade).toBe(true)
  })

  it('no earlier versions, unknown time, unknown version: no downgrade', () => {
    expect(assessTrust(packument({ '1.0.0': { at: '2024-01-01T00:00:00Z' } }), '1.0.0')).toMatchObject({ level: 0, downgrade: false })
    expect(assessTrust({ versions: { '1.0.0': { dist: sig } } }, '1.0.0')).toMatchObject({ level: 1, downgrade: false })
    expect(assessTrust({ versions: {} }, '1.0.0').downgrade).toBe(false)
  })
})

describe('trustViolations', () => {
  const p = packument({
    '1.0.0': { at: '2024-01-01T00:00:00Z', dist: prov, extra: tp },
    '1.1.0': { at: '2024-03-01T00:00:00Z', dist: sig },
  })
  const pkg = fakePkg({ name: '@acme/pkg', version: '1.1.0', integrity: REAL_INTEGRITY })
  const now = new Date('2024-03-10T00:00:00Z')
  const outcome = assessTrust(p, '1.1.0')

  it('warning under report', () => {
    expect(trustViolations(outcome, pkg, defaultPolicy, now)).toMatchObject([{ code: 'ESITRUSTDOWNGRADE', severity: 'warning' }])
  })
  it('error under no-downgrade', () => {
    expect(trustViolations(outcome, pkg, { ...defaultPolicy, trust: 'no-downgrade' }, now)).toMatchObject([{ code: 'ESITRUSTDOWNGRADE', severity: 'error' }])
  })
  it('warning only when excluded by name or scope', () => {
    expect(trustViolations(outcome, pkg, { ...defaultPolicy, trust: 'no-downgrade', trustExclude: ['@acme/*'] }, now)).toMatchObject([{ severity: 'warning' }])
    expect(trustViolations(outcome, pkg, { ...defaultPolicy, trust: 'no-downgrade', trustExclude: ['@acme/pkg'] }, now)).toMatchObject([{ severity: 'warning' }])
    expect(trustViolations(outcome, pkg, { ...defaultPolicy, trust: 'no-downgrade', trustExclude: ['@other/*'] }, now)).toMatchObject([{ severity: 'error' }])
  })
  it('warning only when the version is older than trustIgnoreAfterDays', () => {
    expect(trustViolations(outcome, pkg, { ...defaultPolicy, trust: 'no-downgrade', trustIgnoreAfterDays: 5 }, now)).toMatchObject([{ severity: 'warning' }])
    expect(trustViolations(outcome, pkg, { ...defaultPolicy, trust: 'no-downgrade', trustIgnoreAfterDays: 30 }, now)).toMatchObject([{ severity: 'error' }])
  })
  it('nothing without a downgrade', () => {
    expect(trustViolations(assessTrust(p, '1.0.0'), pkg, { ...defaultPolicy, trust: 'no-downgrade' }, now)).toEqual([])
  })
})

describe('trustCheck', () => {
  const p = packument({
    '1.0.0': { at: '2024-01-01T00:00:00Z', dist: prov, extra: tp },
    '1.1.0': { at: '2024-03-01T00:00:00Z', dist: sig },
  })
  it('reads the full packument and refuses under no-downgrade', async () => {
    const ctx = fakeCtx({ options: fakeOptions({ trust: 'no-downgrade' }), packuments: { [`${PUBLIC} pkg`]: p } })
    const res = await trustCheck(new EvidenceRun({ now: () => new Date('2024-03-02') })).check!(fakePkg({ name: 'pkg', version: '1.1.0', integrity: REAL_INTEGRITY }), ctx)
    expect(res.evidence?.trust).toEqual({ level: 1, downgrade: true, previous: { version: '1.0.0', level: 3 }, reason: expect.stringMatching(/trusted publisher/) })
    expect(res.violations).toMatchObject([{ code: 'ESITRUSTDOWNGRADE', severity: 'error' }])
  })
  it('uses the signatures registry packument when one is set', async () => {
    const ctx = fakeCtx({ options: fakeOptions({ signaturesRegistry: PUBLIC }, { registry: PROXY }), packuments: { [`${PUBLIC} pkg`]: p } })
    const res = await trustCheck(new EvidenceRun()).check!(fakePkg({ name: 'pkg', version: '1.1.0', integrity: REAL_INTEGRITY, registry: PROXY }), ctx)
    expect(res.evidence?.trust?.downgrade).toBe(true)
    expect(ctx.calls).toEqual([`packument ${PUBLIC} pkg`])
  })
  it('no packument: level from the version document, no downgrade, no throw', async () => {
    const ctx = fakeCtx({ packuments: { [`${PUBLIC} pkg`]: new Error('boom') } })
    const res = await trustCheck(new EvidenceRun()).check!(fakePkg({ name: 'pkg', version: '1.1.0', integrity: REAL_INTEGRITY, registryManifest: { dist: sig } }), ctx)
    expect(res.evidence?.trust).toMatchObject({ level: 1, downgrade: false, reason: expect.stringMatching(/boom/) })
  })
})
