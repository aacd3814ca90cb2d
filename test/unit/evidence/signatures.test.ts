import { describe, expect, it } from 'vitest'
import { verifyRegistrySignature, signaturesCheck, stillTrusted } from '../../../lib/evidence/signatures.js'
import { EvidenceRun } from '../../../lib/evidence/run.js'
import { parseNpmKeys, type RegistryKeySet } from '../../../lib/evidence/keys.js'
import {
  embeddedKeys, fakeCtx, fakeOptions, fakePkg, offlineRun, PROXY, PUBLIC, REAL_INTEGRITY, REAL_PUBLISHED,
  realDist, realPackument, realPkg, tamperIntegrity, testRegistryKey,
} from './helpers.js'
import { PUBLIC_REGISTRY } from '../../helpers/registry-host.js'

const REAL_KEYID = 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA'
const sigs = realDist.dist.signatures

describe('verifyRegistrySignature (pure)', () => {
  it('verifies the genuine sigstore@1.0.0 signature offline against the embedded key', () => {
    const keys: RegistryKeySet = { registry: PUBLIC, keys: embeddedKeys(), source: 'embedded' }
    const out = verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, signatures: sigs, keys, publishedAt: REAL_PUBLISHED })
    expect(out).toMatchObject({ status: 'verified', keyid: REAL_KEYID, keySource: 'embedded' })
  })

  it('fails when one byte of the integrity changes', () => {
    const out = verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity: tamperIntegrity(REAL_INTEGRITY), signatures: sigs, keys: embeddedKeys(), publishedAt: REAL_PUBLISHED })
    expect(out.status).toBe('invalid')
    expect(out.keyid).toBe(REAL_KEYID)
  })

  it('fails for another name or version, or a changed signature byte', () => {
    const keys = embeddedKeys()
    expect(verifyRegistrySignature({ name: 'sigstore', version: '1.0.1', integrity: REAL_INTEGRITY, signatures: sigs, keys, publishedAt: REAL_PUBLISHED }).status).toBe('invalid')
    expect(verifyRegistrySignature({ name: 'sigstor', version: '1.0.0', integrity: REAL_INTEGRITY, signatures: sigs, keys, publishedAt: REAL_PUBLISHED }).status).toBe('invalid')
    const raw = Buffer.from(sigs[0].sig, 'base64')
    raw[raw.length - 1] ^= 0x01
    const bad = [{ keyid: REAL_KEYID, sig: raw.toString('base64') }]
    expect(verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, signatures: bad, keys, publishedAt: REAL_PUBLISHED }).status).toBe('invalid')
  })

  it('signs the sha512 of a multi-hash lockfile integrity', () => {
    const integrity = `sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA= ${REAL_INTEGRITY}`
    expect(verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity, signatures: sigs, keys: embeddedKeys(), publishedAt: REAL_PUBLISHED }).status).toBe('verified')
  })

  it('does not count a key that expired before the version was published', () => {
    // the real key expired 2025-01-29: a version "published" after that cannot rely on it
    const out = verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, signatures: sigs, keys: embeddedKeys(), publishedAt: '2025-03-01T00:00:00Z' })
    expect(out.status).toBe('invalid')
    expect(out.reason).toMatch(/expired/)
  })

  it('needs the publish time when the key has expired by now', () => {
    const out = verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, signatures: sigs, keys: embeddedKeys(), now: new Date('2026-01-01') })
    expect(out.status).toBe('not-checked')
    // ... and not when it has not expired yet
    const early = verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, signatures: sigs, keys: embeddedKeys(), now: new Date('2024-01-01') })
    expect(early.status).toBe('verified')
  })

  it('ignores unknown keyids when a known key verifies', () => {
    const withUnknown = [{ keyid: 'SHA256:someone-else', sig: 'MEUCIQDeadBeef' }, ...sigs]
    expect(verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, signatures: withUnknown, keys: embeddedKeys(), publishedAt: REAL_PUBLISHED }))
      .toMatchObject({ status: 'verified', keyid: REAL_KEYID })
  })

  it('only unknown keyids: missing with fresh keys, not-checked with the offline copy', () => {
    const unknownOnly = [{ keyid: 'SHA256:someone-else', sig: sigs[0].sig }]
    const fresh: RegistryKeySet = { registry: PUBLIC, keys: embeddedKeys(), source: 'tuf' }
    expect(verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, signatures: unknownOnly, keys: fresh, publishedAt: REAL_PUBLISHED }).status).toBe('missing')
    const offline: RegistryKeySet = { ...fresh, source: 'embedded' }
    expect(verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, signatures: unknownOnly, keys: offline, publishedAt: REAL_PUBLISHED }).status).toBe('not-checked')
  })

  it('missing without signatures; not-checked without keys or sha512', () => {
    expect(verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, signatures: undefined, keys: embeddedKeys() }).status).toBe('missing')
    expect(verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, signatures: sigs, keys: [] }).status).toBe('not-checked')
    expect(verifyRegistrySignature({ name: 'sigstore', version: '1.0.0', integrity: 'sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=', signatures: sigs, keys: embeddedKeys() }).status).toBe('not-checked')
  })

  it('one valid signature from a known key suffices even if another known key fails', () => {
    const a = testRegistryKey('SHA256:a')
    const b = testRegistryKey('SHA256:b')
    const keys = [...parseNpmKeys(a.doc), ...parseNpmKeys(b.doc)]
    const message = `x@1.0.0:${REAL_INTEGRITY}`
    const signatures = [{ keyid: 'SHA256:a', sig: b.sign(message) }, { keyid: 'SHA256:b', sig: b.sign(message) }]
    expect(verifyRegistrySignature({ name: 'x', version: '1.0.0', integrity: REAL_INTEGRITY, signatures, keys })).toMatchObject({ status: 'verified', keyid: 'SHA256:b' })
    expect(verifyRegistrySignature({ name: 'x', version: '1.0.0', integrity: REAL_INTEGRITY, signatures: signatures.slice(0, 1), keys }).status).toBe('invalid')
  })

  it('honours npm keys-endpoint expiry', () => {
    const k = testRegistryKey('SHA256:old', '2024-01-01T00:00:00.000Z')
    const keys = parseNpmKeys(k.doc)
    const signatures = [{ keyid: 'SHA256:old', sig: k.sign(`x@1.0.0:${REAL_INTEGRITY}`) }]
    expect(verifyRegistrySignature({ name: 'x', version: '1.0.0', integrity: REAL_INTEGRITY, signatures, keys, publishedAt: '2023-06-01T00:00:00Z' }).status).toBe('verified')
    expect(verifyRegistrySignature({ name: 'x', version: '1.0.0', integrity: REAL_INTEGRITY, signatures, keys, publishedAt: '2024-06-01T00:00:00Z' }).status).toBe('invalid')
  })
})

describe('signaturesCheck', () => {
  it('verifies the real package offline, notes the embedded keys, and caches the result', async () => {
    const ctx = fakeCtx({ packuments: { [`${PUBLIC} sigstore`]: realPackument() } })
    const check = signaturesCheck(offlineRun())
    const res = await check.check!(realPkg(), ctx)
    expect(res.evidence?.signature).toMatchObject({ status: 'verified', keySource: 'embedded' })
    expect(res.violations).toEqual([])
    expect(ctx.notes.some(n => n.check === 'signatures' && /offline copy/.test(n.message))).toBe(true)

    // warm reinstall: a new run, same fact cache: the keys are loaded (the
    // verdict counts only while its key is still trusted), no packument, no crypto
    const warm = fakeCtx({ factStore: ctx.factStore })
    const again = await signaturesCheck(offlineRun()).check!(realPkg(), warm)
    expect(again.evidence?.signature).toMatchObject({ status: 'verified', keyid: REAL_KEYID })
    expect(warm.calls.filter(c => !c.includes('/-/npm/v1/keys'))).toEqual([])

    // the same verdict is not reused once the registry's keys no longer hold that key
    const rotated = fakeCtx({ factStore: ctx.factStore, packuments: { [`${PUBLIC} sigstore`]: realPackument() } })
    const noKeys = new EvidenceRun({ tuf: { target: async () => undefined } })
    const after = await signaturesCheck(noKeys).check!(realPkg(), rotated)
    expect(after.evidence?.signature?.status).not.toBe('verified')
  })

  it('refuses a tampered lockfile integrity (ESISIGINVALID), even with signatures=verify', async () => {
    const ctx = fakeCtx({ packuments: { [`${PUBLIC} sigstore`]: realPackument() } })
    const res = await signaturesCheck(offlineRun()).check!(realPkg({ integrity: tamperIntegrity(REAL_INTEGRITY) }), ctx)
    expect(res.evidence?.signature?.status).toBe('invalid')
    expect(res.violations?.map(v => v.code)).toEqual(['ESISIGINVALID'])
  })

  it('registry without keys: not-checked, one note; ESISIGUNCHECKED only under require', async () => {
    const options = fakeOptions({}, { registry: PROXY })
    const pkg = (n: string) => fakePkg({ name: n, version: '1.0.0', integrity: REAL_INTEGRITY, registry: PROXY, registryManifest: { dist: { integrity: REAL_INTEGRITY } } })
    const ctx = fakeCtx({ options })
    const check = signaturesCheck(offlineRun())
    const a = await check.check!(pkg('a'), ctx)
    const b = await check.check!(pkg('b'), ctx)
    expect(a.evidence?.signature?.status).toBe('not-checked')
    expect(a.violations).toEqual([])
    expect(b.violations).toEqual([])
    expect(ctx.calls.filter(u => u.endsWith('/-/npm/v1/keys'))).toHaveLength(1)
    await check.finish!([pkg('a'), pkg('b')], ctx)
    expect(ctx.notes).toHaveLength(1)
    expect(ctx.notes[0].message).toBe("2 packages from proxy.example.test/npm could not be checked for registry signatures: the registry publishes no signing keys (proxy.example.test answered 404).")

    const strict = fakeCtx({ options: fakeOptions({ signatures: 'require' }, { registry: PROXY }) })
    const r = await signaturesCheck(offlineRun()).check!(pkg('a'), strict)
    expect(r.violations?.map(v => v.code)).toEqual(['ESISIGUNCHECKED'])
  })

  it('keys served but no signature: ESISIGMISSING', async () => {
    const key = testRegistryKey()
    const options = fakeOptions({}, { registry: PROXY })
    const ctx = fakeCtx({ options, fetch: { [`${PROXY}-/npm/v1/keys`]: key.doc } })
    const pkg = fakePkg({ name: 'a', version: '1.0.0', integrity: REAL_INTEGRITY, registry: PROXY, registryManifest: { dist: { integrity: REAL_INTEGRITY } } })
    const res = await signaturesCheck(offlineRun()).check!(pkg, ctx)
    expect(res.evidence?.signature).toMatchObject({ status: 'missing', keySource: 'keys-endpoint' })
    expect(res.violations?.map(v => v.code)).toEqual(['ESISIGMISSING'])

    const signed = fakePkg({ name: 'a', version: '1.0.0', integrity: REAL_INTEGRITY, registry: PROXY, registryManifest: { dist: { integrity: REAL_INTEGRITY, signatures: [{ keyid: key.keyid, sig: key.sign(`a@1.0.0:${REAL_INTEGRITY}`) }] } } })
    const ok = await signaturesCheck(offlineRun()).check!(signed, fakeCtx({ options, fetch: { [`${PROXY}-/npm/v1/keys`]: key.doc } }))
    expect(ok.evidence?.signature).toMatchObject({ status: 'verified', keyid: key.keyid })
  })

  it('signaturesRegistry: reads signatures from that registry, checked against the lockfile integrity', async () => {
    const options = fakeOptions({ signaturesRegistry: PUBLIC_REGISTRY.slice(0, -1) }, { registry: PROXY })
    // the proxy stripped the signatures
    const stripped = realPkg({ registry: PROXY, registryManifest: { name: 'sigstore', version: '1.0.0', dist: { integrity: REAL_INTEGRITY } } })
    const ctx = fakeCtx({
      options,
      fetch: { [`${PUBLIC}sigstore`]: realPackument() },
      packuments: { [`${PUBLIC} sigstore`]: realPackument() },
    })
    const res = await signaturesCheck(offlineRun()).check!(stripped, ctx)
    expect(res.evidence?.signature).toMatchObject({ status: 'verified', keyid: REAL_KEYID })
    expect(ctx.calls).toContain(`${PUBLIC}sigstore`)

    const tampered = realPkg({ registry: PROXY, integrity: tamperIntegrity(REAL_INTEGRITY), registryManifest: { dist: {} } })
    const bad = await signaturesCheck(offlineRun()).check!(tampered, fakeCtx({ options, fetch: { [`${PUBLIC}sigstore`]: realPackument() }, packuments: { [`${PUBLIC} sigstore`]: realPackument() } }))
    expect(bad.violations?.map(v => v.code)).toEqual(['ESISIGINVALID'])
  })

  it('a registry that cannot be reached: not-checked, never throws', async () => {
    const options = fakeOptions({ signaturesRegistry: PUBLIC }, { registry: PROXY })
    const ctx = fakeCtx({ options, fetch: { [`${PUBLIC}sigstore`]: new Error('getaddrinfo ENOTFOUND') } })
    const res = await signaturesCheck(offlineRun()).check!(realPkg({ registry: PROXY, registryManifest: { dist: {} } }), ctx)
    expect(res.evidence?.signature?.status).toBe('not-checked')
    expect(res.evidence?.signature?.reason).toMatch(/ENOTFOUND/)
    expect(res.violations).toEqual([])
  })

  it('skips non-registry packages without violations', async () => {
    const res = await signaturesCheck(offlineRun()).check!(fakePkg({ name: 'g', version: '1.0.0', integrity: REAL_INTEGRITY, source: 'git' }), fakeCtx({ options: fakeOptions({ signatures: 'require' }) }))
    expect(res.evidence?.signature?.status).toBe('not-checked')
    expect(res.violations).toEqual([])
  })
})

describe('stillTrusted: when a cached verdict may be reused', () => {
  const key = { keyid: 'SHA256:k', keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: 'AAAA', usage: 'npm:signatures' } as any
  it('only while the key that verified it is still listed for signatures, with the same expiry', () => {
    expect(stillTrusted('SHA256:k', null, [key])).toBe(true)
    expect(stillTrusted('SHA256:k', null, [])).toBe(false)
    expect(stillTrusted('SHA256:other', null, [key])).toBe(false)
    expect(stillTrusted(undefined, null, [key])).toBe(false)
    // an expiry set or moved since: revoked, verify again (with the publish time)
    expect(stillTrusted('SHA256:k', null, [{ ...key, expires: '2026-01-01T00:00:00Z' }])).toBe(false)
    expect(stillTrusted('SHA256:k', '2025-01-13T00:00:00Z', [{ ...key, expires: '2024-06-01T00:00:00Z' }])).toBe(false)
    // an expired key keeps vouching for what it signed before it expired
    expect(stillTrusted('SHA256:k', '2025-01-13T00:00:00Z', [{ ...key, expires: '2025-01-13T00:00:00Z' }])).toBe(true)
    expect(stillTrusted('SHA256:k', null, [{ ...key, usage: 'npm:attestations' }])).toBe(false)
  })
})
