import { describe, expect, it } from 'vitest'
import { compareIdentity, identityCheck, identityViolations, normalizeRepository } from '../../../lib/evidence/identity.js'
import { defaultPolicy, fakeCtx, fakeOptions, fakePkg, offlineRun, PUBLIC, REAL_INTEGRITY, realAttestations, realPkg } from './helpers.js'

describe('normalizeRepository', () => {
  const same = [
    'https://github.com/sigstore/sigstore-js',
    'git+https://github.com/sigstore/sigstore-js.git',
    'git+https://github.com/Sigstore/Sigstore-JS.git',
    'https://github.com/sigstore/sigstore-js/',
    'https://www.github.com/sigstore/sigstore-js',
    'git://github.com/sigstore/sigstore-js.git',
    'git+ssh://git@github.com/sigstore/sigstore-js.git',
    'ssh://git@github.com:22/sigstore/sigstore-js',
    'git@github.com:sigstore/sigstore-js.git',
    'github:sigstore/sigstore-js',
    'sigstore/sigstore-js',
    'https://github.com/sigstore/sigstore-js/tree/main/packages/client',
    'https://github.com/sigstore/sigstore-js#readme',
    { type: 'git', url: 'git+https://github.com/sigstore/sigstore-js.git', directory: 'packages/client' },
  ]
  for (const input of same) {
    it(`reads ${JSON.stringify(input)} as github.com/sigstore/sigstore-js`, () => {
      expect(normalizeRepository(input)).toBe('github.com/sigstore/sigstore-js')
    })
  }

  it('handles GitLab subgroups and views, and other shorthands', () => {
    expect(normalizeRepository('https://gitlab.com/group/sub/project.git')).toBe('gitlab.com/group/sub/project')
    expect(normalizeRepository('https://gitlab.com/group/sub/project/-/tree/main')).toBe('gitlab.com/group/sub/project')
    expect(normalizeRepository('gitlab:group/sub/project')).toBe('gitlab.com/group/sub/project')
    expect(normalizeRepository('bitbucket:team/repo')).toBe('bitbucket.org/team/repo')
  })

  it('keeps different repositories apart', () => {
    expect(normalizeRepository('https://github.com/sigstore/sigstore-js')).not.toBe(normalizeRepository('https://github.com/sigstore/sigstore-go'))
    expect(normalizeRepository('https://github.com/a/b')).not.toBe(normalizeRepository('https://gitlab.com/a/b'))
  })

  it('rejects what is not a repository', () => {
    expect(normalizeRepository(undefined)).toBeUndefined()
    expect(normalizeRepository('')).toBeUndefined()
    expect(normalizeRepository({ type: 'git' })).toBeUndefined()
    expect(normalizeRepository('not a repo at all')).toBeUndefined()
  })
})

describe('compareIdentity', () => {
  it('match, mismatch, no-repository, not-checked', () => {
    expect(compareIdentity('https://github.com/sigstore/sigstore-js', 'git+https://github.com/sigstore/sigstore-js.git').status).toBe('match')
    expect(compareIdentity('https://github.com/evil/sigstore-js', { url: 'git+https://github.com/sigstore/sigstore-js.git' }))
      .toEqual({ status: 'mismatch', attested: 'https://github.com/evil/sigstore-js', declared: 'git+https://github.com/sigstore/sigstore-js.git' })
    expect(compareIdentity('https://github.com/sigstore/sigstore-js', undefined).status).toBe('no-repository')
    expect(compareIdentity(undefined, 'github:a/b').status).toBe('not-checked')
    expect(compareIdentity('https://github.com/a/b', 'garbage').status).toBe('mismatch')
  })

  it('mismatch is a warning by default, an error when required (all or listed)', () => {
    const pkg = fakePkg({ name: '@acme/x', version: '1.0.0', integrity: REAL_INTEGRITY })
    const mismatch = compareIdentity('https://github.com/evil/x', 'github:acme/x')
    expect(identityViolations(mismatch, pkg, defaultPolicy)).toMatchObject([{ code: 'ESIIDENTITY', severity: 'warning' }])
    expect(identityViolations(mismatch, pkg, { identity: 'require', identityRequireFor: [] })).toMatchObject([{ code: 'ESIIDENTITY', severity: 'error' }])
    expect(identityViolations(mismatch, pkg, { identity: 'require', identityRequireFor: ['@acme/*'] })).toMatchObject([{ severity: 'error' }])
    expect(identityViolations(mismatch, pkg, { identity: 'require', identityRequireFor: ['other'] })).toMatchObject([{ severity: 'warning' }])
    const none = compareIdentity('https://github.com/acme/x', undefined)
    expect(identityViolations(none, pkg, defaultPolicy)).toEqual([])
    expect(identityViolations(none, pkg, { identity: 'require', identityRequireFor: [] })).toMatchObject([{ severity: 'error' }])
    expect(identityViolations(compareIdentity('https://github.com/acme/x', 'acme/x'), pkg, { identity: 'require', identityRequireFor: [] })).toEqual([])
  })
})

describe('identityCheck', () => {
  const ATT_URL = `${PUBLIC}-/npm/v1/attestations/sigstore@1.0.0`
  it('compares the verified provenance of the real package with its manifest', async () => {
    const res = await identityCheck(offlineRun()).check!(realPkg(), fakeCtx({ fetch: { [ATT_URL]: realAttestations } }))
    expect(res.evidence?.identity).toMatchObject({ status: 'match', attested: 'https://github.com/sigstore/sigstore-js' })
    expect(res.violations).toEqual([])
  })

  it('flags a manifest that claims another repository', async () => {
    const pkg = realPkg({ manifest: { name: 'sigstore', version: '1.0.0', repository: 'github:someone/else' } })
    const res = await identityCheck(offlineRun()).check!(pkg, fakeCtx({ options: fakeOptions({ identity: 'require' }), fetch: { [ATT_URL]: realAttestations } }))
    expect(res.evidence?.identity?.status).toBe('mismatch')
    expect(res.violations).toMatchObject([{ code: 'ESIIDENTITY', severity: 'error' }])
  })

  it('shares the provenance work with the provenance check (one fetch per run)', async () => {
    const { provenanceCheck } = await import('../../../lib/evidence/provenance.js')
    const run = offlineRun()
    const ctx = fakeCtx({ fetch: { [ATT_URL]: realAttestations } })
    await Promise.all([provenanceCheck(run).check!(realPkg(), ctx), identityCheck(run).check!(realPkg(), ctx)])
    expect(ctx.calls.filter(u => u === ATT_URL)).toHaveLength(1)
  })
})
