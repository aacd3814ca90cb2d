import { describe, expect, it } from 'vitest'
import { packumentUpTo, reducePackument, reduceTrustDoc, reduceVersionDoc } from '../../../lib/fetch/version-facts.js'
import { trustLevelOf } from '../../../lib/evidence/trust.js'

const packument = {
  name: 'p',
  time: { created: '2020-01-01T00:00:00Z', '1.0.0': '2020-01-01T00:00:00Z', '1.1.0': '2021-01-01T00:00:00Z', '2.0.0': '2022-01-01T00:00:00Z' },
  versions: {
    '1.0.0': { name: 'p', version: '1.0.0', dist: { integrity: 'sha512-a', tarball: 't1', attestations: { url: 'u' } }, _npmUser: { name: 'x', trustedPublisher: { id: 'gh' } }, readme: 'big' },
    '1.1.0': { name: 'p', version: '1.1.0', dist: { integrity: 'sha512-b', tarball: 't2', signatures: [{ keyid: 'k', sig: 's' }] } },
    '2.0.0': { name: 'p', version: '2.0.0', dist: { integrity: 'sha512-c', tarball: 't3' } },
  },
}

describe('packumentUpTo', () => {
  it('keeps the version and the earlier ones only: what was true when it was published', () => {
    const up = packumentUpTo(packument, '1.1.0')!
    expect(Object.keys(up.versions)).toEqual(['1.0.0', '1.1.0'])
    expect(Object.keys(up.time)).toEqual(['1.0.0', '1.1.0'])
    expect(up.versions['1.0.0'].dist.attestations).toEqual({ url: 'u' })
    expect(up.versions['1.0.0']._npmUser.trustedPublisher).toEqual({ id: 'gh' })
    expect(up.versions['1.0.0'].readme).toBeUndefined()
    // only what the trust ranking reads: no tarball, integrity or signature bytes
    expect(up.versions['1.1.0']).toEqual({ dist: { signatures: [{ keyid: 'k' }] } })
    expect(up.versions['1.0.0'].dist.integrity).toBeUndefined()
  })

  it('ranks the same as the full packument', () => {
    for (const v of ['1.0.0', '1.1.0', '2.0.0']) {
      const up = packumentUpTo(packument, v)!
      for (const [ver, doc] of Object.entries(up.versions)) {
        expect(trustLevelOf(doc), `${v}: ${ver}`).toBe(trustLevelOf((packument.versions as any)[ver]))
      }
    }
  })

  it('is undefined without a publish time (nothing immutable to keep)', () => {
    expect(packumentUpTo({ ...packument, time: {} }, '1.1.0')).toBeUndefined()
    expect(packumentUpTo(packument, '9.9.9')).toBeUndefined()
  })
})

describe('reduceVersionDoc', () => {
  it('keeps dist evidence fields and drops the rest', () => {
    const r = reduceVersionDoc(packument.versions['1.1.0'] as any)
    expect(r).toEqual({ name: 'p', version: '1.1.0', dist: { integrity: 'sha512-b', shasum: undefined, tarball: 't2', signatures: [{ keyid: 'k', sig: 's' }] } })
  })
})

describe('reducePackument', () => {
  it('keeps time and every version reduced to what the checks read', () => {
    const r = reducePackument({ ...packument, readme: 'x'.repeat(1000), maintainers: [{ name: 'm' }] })
    expect(Object.keys(r).sort()).toEqual(['name', 'time', 'versions'])
    expect(r.time).toEqual(packument.time)
    expect(r.versions['1.0.0']).toEqual(reduceVersionDoc(packument.versions['1.0.0'] as any))
    expect(r.versions['1.0.0'].readme).toBeUndefined()
    // the trust view of a reduced packument is the same as of the raw one
    expect(packumentUpTo(r, '2.0.0')).toEqual(packumentUpTo(packument, '2.0.0'))
    expect(reducePackument(undefined)).toBeUndefined()
  })

  it('given the versions the run installs, keeps their whole documents and only the trust view of the others; the trust view is unchanged', () => {
    const wanted = new Set(['1.1.0'])
    const r = reducePackument(packument, wanted)
    expect(r.versions['1.1.0']).toEqual(reduceVersionDoc(packument.versions['1.1.0'] as any))
    for (const v of Object.keys(packument.versions).filter(v => !wanted.has(v))) {
      expect(r.versions[v]).toEqual(reduceTrustDoc(packument.versions[v as keyof typeof packument.versions] as any))
      expect(r.versions[v].dist.integrity).toBeUndefined()
    }
    expect(r.time).toEqual(packument.time)
    for (const v of Object.keys(packument.versions)) expect(packumentUpTo(r, v)).toEqual(packumentUpTo(packument, v))
  })
})
