// The prepared Sigstore trust material (provenance-trust.ts) must give the
// same verdicts as @sigstore/verify's own, only faster: the genuine
// sigstore@1.0.0 bundle verifies, and a signing certificate from a CA the
// trusted root does not hold is refused, including one from a lookalike CA
// that copies the real Fulcio intermediate's name and key identifier.
// The rogue certificates below were made once with openssl (P-384 root and
// intermediate, P-256 leaf valid at the bundle's Rekor time, the real leaf's
// SAN and code-signing EKU); none of them is trusted anywhere.
import { describe, expect, it } from 'vitest'
import { bundleFromJSON } from '@sigstore/bundle'
import { X509Certificate } from '@sigstore/core'
import { TrustedRoot } from '@sigstore/protobuf-specs'
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify'
import { encodeDER, leafOf, mayHaveIssued, PreparedCertificate, PreparedTrust, preparedEntity } from '../../../lib/evidence/provenance-trust.js'
import { verifyAttestations } from '../../../lib/evidence/provenance.js'
import { embeddedTarget } from '../../../lib/evidence/tuf.js'
import { embeddedKeys, REAL_INTEGRITY, realAttestations } from './helpers.js'

const ROGUE_ROOT = [
  'MIIBxTCCAUugAwIBAgIBATAKBggqhkjOPQQDAzAqMRUwEwYDVQQKDAxzaWdzdG9yZS5kZXYxETAPBgNVBAMMCHNpZ3N0b3Jl',
  'MB4XDTIwMDEwMTAwMDAwMFoXDTQwMDEwMTAwMDAwMFowKjEVMBMGA1UECgwMc2lnc3RvcmUuZGV2MREwDwYDVQQDDAhzaWdz',
  'dG9yZTB2MBAGByqGSM49AgEGBSuBBAAiA2IABDeJmEB3U5HrvSusQ++JPBoS+XuFoNdZbtd6Uq7+4QufEjyPmSzaSZ9R283q',
  'cSD2V1+IJTWoqg/keDPO7Du5W2HlIwXgrVs8tPj0sZFzCACKkxVjtgng/lxSlDRVOYow16NFMEMwEgYDVR0TAQH/BAgwBgEB',
  '/wIBATAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFHCpIZ/neylRul6MMohKJNAxN3hcMAoGCCqGSM49BAMDA2gAMGUCMD4/',
  'Bxv13scbkG+Ui2qCcg7t1sMvHBOHwsPHmbWeY2DWPoBJMp2XVeFFdmlOhtgMmQIxAJvw2zRHPQh/Wjrx9JuNd/qfHFVB7nlD',
  'ABkISUyejaZFMBRCpn2fqNxW/ag8xKoD0Q=='
].join('')
const ROGUE_INTERMEDIATE = [
  'MIICCTCCAY6gAwIBAgIBATAKBggqhkjOPQQDAzAqMRUwEwYDVQQKDAxzaWdzdG9yZS5kZXYxETAPBgNVBAMMCHNpZ3N0b3Jl',
  'MB4XDTIyMDEwMTAwMDAwMFoXDTMyMDEwMTAwMDAwMFowNzEVMBMGA1UECgwMc2lnc3RvcmUuZGV2MR4wHAYDVQQDDBVzaWdz',
  'dG9yZS1pbnRlcm1lZGlhdGUwdjAQBgcqhkjOPQIBBgUrgQQAIgNiAARWYGtvLjj1a+k13g+RNeE5DsAMuCzuM3cTyME7vGwX',
  'eLrm/cKoHlvKGAf95imqvS8Tku/tPcZ+Hcl/oKaB+vDv9Isuyop3iFw1BZ/wTRWZj0yCKC4jXXn4i/Z3Q24t1dajezB5MBIG',
  'A1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEGMBMGA1UdJQQMMAoGCCsGAQUFBwMDMB0GA1UdDgQWBBQbi6o1UrL+',
  'n9WqwFoeeQbHd3kSUTAfBgNVHSMEGDAWgBRwqSGf53spUbpejDKISiTQMTd4XDAKBggqhkjOPQQDAwNpADBmAjEArQYPvetD',
  'C+UilNa7flaC9/IaSNvHv6V6x/+SYlTWgjUbQvfTkl6J8YViqvl9YEEsAjEA16rFWxB2sxLmOJ2CjO3FJhJNqaluGaUn34M7',
  'qafazp4ZQ1vv9VdJS8VndPbO9rjt'
].join('')
const LOOKALIKE_INTERMEDIATE = [
  'MIICCTCCAY6gAwIBAgIBATAKBggqhkjOPQQDAzAqMRUwEwYDVQQKDAxzaWdzdG9yZS5kZXYxETAPBgNVBAMMCHNpZ3N0b3Jl',
  'MB4XDTIyMDEwMTAwMDAwMFoXDTMyMDEwMTAwMDAwMFowNzEVMBMGA1UECgwMc2lnc3RvcmUuZGV2MR4wHAYDVQQDDBVzaWdz',
  'dG9yZS1pbnRlcm1lZGlhdGUwdjAQBgcqhkjOPQIBBgUrgQQAIgNiAARWYGtvLjj1a+k13g+RNeE5DsAMuCzuM3cTyME7vGwX',
  'eLrm/cKoHlvKGAf95imqvS8Tku/tPcZ+Hcl/oKaB+vDv9Isuyop3iFw1BZ/wTRWZj0yCKC4jXXn4i/Z3Q24t1dajezB5MBIG',
  'A1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEGMBMGA1UdJQQMMAoGCCsGAQUFBwMDMB0GA1UdDgQWBBTf0+nPViQR',
  'lvmo2OkoVaLGLhhkPzAfBgNVHSMEGDAWgBRwqSGf53spUbpejDKISiTQMTd4XDAKBggqhkjOPQQDAwNpADBmAjEArBRu5LMj',
  '7OdYUuTFlUMCHeO/WKTvYOYxeCkxRUIUh2ivGZb777j5K4XFycbAmUJsAjEAyr03p39SKb9J7o3bS71Rs+Z/OsM/wm64MSVx',
  'RcfVznxirP+N30lHEwdV7fpOM6yi'
].join('')
const ROGUE_LEAF = [
  'MIICJzCCAa2gAwIBAgIBATAKBggqhkjOPQQDAzA3MRUwEwYDVQQKDAxzaWdzdG9yZS5kZXYxHjAcBgNVBAMMFXNpZ3N0b3Jl',
  'LWludGVybWVkaWF0ZTAeFw0yMzAyMDkxNzU2MDBaFw0yMzAyMDkxODA2MDBaMBIxEDAOBgNVBAoMB2V4YW1wbGUwWTATBgcq',
  'hkjOPQIBBggqhkjOPQMBBwNCAATbvipxSl6/xjt6yr4RuLoT/zlLG4mwgL2hmWcX4HaGozPw6CB5TAnwb6kBaB2jZDFa36+t',
  '6nNwu0Ih+9ouJKTlo4HOMIHLMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDAzAdBgNVHQ4EFgQU+/UUftDf',
  'ngYwD0+OP1fBormLmeEwHwYDVR0jBBgwFoAUG4uqNVKy/p/VqsBaHnkGx3d5ElEwZAYDVR0RAQH/BFowWIZWaHR0cHM6Ly9n',
  'aXRodWIuY29tL3NpZ3N0b3JlL3NpZ3N0b3JlLWpzLy5naXRodWIvd29ya2Zsb3dzL3B1Ymxpc2gueW1sQHJlZnMvdGFncy92',
  'MS4wLjAwCgYIKoZIzj0EAwMDaAAwZQIwM+Vm9/XPpPMVEM1jx2sDBtG8CRdZ5/sIIRo94IBAajgZzji/zqCV0ZVkQh3CUWqu',
  'AjEAtCkWugp2tZ8T1eomZT4VLWIHH1N1UFOg//vpqPjzN2Wt/LA2OeK0Jrk2mj8VMhPj'
].join('')
const LOOKALIKE_LEAF = [
  'MIICJjCCAa2gAwIBAgIBATAKBggqhkjOPQQDAzA3MRUwEwYDVQQKDAxzaWdzdG9yZS5kZXYxHjAcBgNVBAMMFXNpZ3N0b3Jl',
  'LWludGVybWVkaWF0ZTAeFw0yMzAyMDkxNzU2MDBaFw0yMzAyMDkxODA2MDBaMBIxEDAOBgNVBAoMB2V4YW1wbGUwWTATBgcq',
  'hkjOPQIBBggqhkjOPQMBBwNCAATbvipxSl6/xjt6yr4RuLoT/zlLG4mwgL2hmWcX4HaGozPw6CB5TAnwb6kBaB2jZDFa36+t',
  '6nNwu0Ih+9ouJKTlo4HOMIHLMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDAzAdBgNVHQ4EFgQU+/UUftDf',
  'ngYwD0+OP1fBormLmeEwHwYDVR0jBBgwFoAU39Ppz1YkEZb5qNjpKFWixi4YZD8wZAYDVR0RAQH/BFowWIZWaHR0cHM6Ly9n',
  'aXRodWIuY29tL3NpZ3N0b3JlL3NpZ3N0b3JlLWpzLy5naXRodWIvd29ya2Zsb3dzL3B1Ymxpc2gueW1sQHJlZnMvdGFncy92',
  'MS4wLjAwCgYIKoZIzj0EAwMDZwAwZAIwEXobFV6SfT7LScMoSbVqD0dpXPdG1xuOGHUvV6CKbFdkaLecZckWVdkIhwGTI6Vn',
  'AjAtntDf5J4ddK4doyFd4yQD38fRf4rmiHdus8Ra2NwBOuxeRKpNGSEAjINKm5NButM='
].join('')

const rootJson = JSON.parse(embeddedTarget('trusted_root.json')!)
const publicGood = TrustedRoot.fromJSON(rootJson)
const noKeys = (hint: string): never => { throw Object.assign(new Error(`no key ${hint}`), { code: 'PUBLIC_KEY_ERROR' }) }
const base = { name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, trustedRootSource: 'embedded' as const }

/** the real provenance bundle, signed (per its verification material) by `leaf` */
function provenanceWithLeaf (leafBase64: string): any {
  const bundle = structuredClone(realAttestations.attestations[0].bundle)
  bundle.verificationMaterial.x509CertificateChain.certificates = [{ rawBytes: leafBase64 }]
  return bundle
}

/** the public-good root plus one more CA (chain leaf-side first, as in a trusted root) */
function rootWith (...chain: string[]): TrustedRoot {
  const json = structuredClone(rootJson)
  json.certificateAuthorities.push({
    subject: { organization: 'sigstore.dev', commonName: 'sigstore' },
    uri: 'https://rogue.example.test',
    certChain: { certificates: chain.map(rawBytes => ({ rawBytes })) },
    validFor: { start: '2022-01-01T00:00:00Z' },
  })
  return TrustedRoot.fromJSON(json)
}

type Verdict = string
const verdict = (fn: () => unknown): Verdict => {
  try {
    fn()
    return 'verified'
  } catch (err: any) {
    return `${err.code ?? 'ERROR'}: ${err.message}`
  }
}
/** @sigstore/verify as it comes */
const plain = (root: TrustedRoot, bundle: any): Verdict =>
  verdict(() => new Verifier(toTrustMaterial(root, noKeys)).verify(toSignedEntity(bundleFromJSON(bundle))))
/** through the prepared trust material, as provenance.ts verifies */
const prepared = (trust: PreparedTrust, bundle: any): Verdict => verdict(() => {
  const entity = preparedEntity(bundleFromJSON(bundle))
  return new Verifier(trust.forLeaf(leafOf(entity))).verify(entity)
})

describe('prepared trust material: same verdicts as @sigstore/verify', () => {
  const trust = new PreparedTrust(publicGood, noKeys)
  const real = realAttestations.attestations[0].bundle

  it('the genuine sigstore@1.0.0 provenance bundle verifies, through a narrowed CA list', () => {
    expect(plain(publicGood, real)).toBe('verified')
    expect(prepared(trust, real)).toBe('verified')
    const leaf = leafOf(preparedEntity(bundleFromJSON(real)))!
    const narrowed = trust.forLeaf(leaf).certificateAuthorities
    // the public-good root holds two Fulcio CAs; only the current one holds the leaf's issuer
    expect(trust.material.certificateAuthorities).toHaveLength(2)
    expect(narrowed).toHaveLength(1)
    expect(narrowed[0].certChain.some(c => mayHaveIssued(c, leaf))).toBe(true)
    // cached per subset
    expect(trust.forLeaf(leafOf(preparedEntity(bundleFromJSON(real))))).toBe(trust.forLeaf(leaf))
    // and end to end, with the publish attestation
    expect(verifyAttestations({ ...base, attestations: realAttestations, trustedRoot: publicGood, keys: embeddedKeys() }))
      .toMatchObject({ status: 'verified', publishAttestation: 'verified' })
  })

  it('a leaf from an unknown CA is refused: no trusted CA can have issued it', () => {
    const bundle = provenanceWithLeaf(ROGUE_LEAF)
    expect(trust.forLeaf(leafOf(preparedEntity(bundleFromJSON(bundle)))).certificateAuthorities).toEqual([])
    expect(plain(publicGood, bundle)).toMatch(/^CERTIFICATE_ERROR: Failed to verify certificate chain/)
    expect(prepared(trust, bundle)).toMatch(/^CERTIFICATE_ERROR: Failed to verify certificate chain/)
    const out = verifyAttestations({ ...base, attestations: { attestations: [{ predicateType: realAttestations.attestations[0].predicateType, bundle }] }, trustedRoot: publicGood })
    expect(out).toMatchObject({ status: 'invalid' })
    expect(out.reason).toMatch(/^provenance: Failed to verify certificate chain/)
  })

  it('a leaf from a lookalike CA (the real intermediate\'s name and key identifier, another key) is refused', () => {
    const bundle = provenanceWithLeaf(LOOKALIKE_LEAF)
    // it is matched to the real CA by its key identifier, and fails on the signature
    expect(trust.forLeaf(leafOf(preparedEntity(bundleFromJSON(bundle)))).certificateAuthorities).toHaveLength(1)
    expect(plain(publicGood, bundle)).toMatch(/^CERTIFICATE_ERROR: Failed to verify certificate chain/)
    expect(prepared(trust, bundle)).toBe(plain(publicGood, bundle))
    // the lookalike intermediate itself in the bundle does not help (only the leaf is read from it)
    const withChain = provenanceWithLeaf(LOOKALIKE_LEAF)
    withChain.verificationMaterial.x509CertificateChain.certificates.push({ rawBytes: LOOKALIKE_INTERMEDIATE }, { rawBytes: ROGUE_ROOT })
    expect(prepared(trust, withChain)).toMatch(/^CERTIFICATE_ERROR: Failed to verify certificate chain/)
  })

  it('once its CA is in the trusted root, the rogue leaf chains (and fails later, on its missing SCT); the real leaf still verifies', () => {
    const root = rootWith(ROGUE_INTERMEDIATE, ROGUE_ROOT)
    const withRogue = new PreparedTrust(root, noKeys)
    const rogue = provenanceWithLeaf(ROGUE_LEAF)
    expect(plain(root, rogue)).toBe('CERTIFICATE_ERROR: expected 1 SCTs, got 0')
    expect(prepared(withRogue, rogue)).toBe('CERTIFICATE_ERROR: expected 1 SCTs, got 0')
    expect(withRogue.forLeaf(leafOf(preparedEntity(bundleFromJSON(rogue)))).certificateAuthorities).toHaveLength(1)
    expect(prepared(withRogue, real)).toBe('verified')
    // a chain that stops short of its root does not verify either way
    const partial = rootWith(ROGUE_INTERMEDIATE)
    expect(prepared(new PreparedTrust(partial, noKeys), rogue)).toBe(plain(partial, rogue))
  })

  it('a trusted root without the leaf\'s CA refuses the genuine bundle', () => {
    const json = structuredClone(rootJson)
    json.certificateAuthorities = json.certificateAuthorities.slice(0, 1)
    json.certificateAuthorities[0].validFor = { start: json.certificateAuthorities[0].validFor.start }
    const old = TrustedRoot.fromJSON(json)
    expect(plain(old, real)).toMatch(/^CERTIFICATE_ERROR: Failed to verify certificate chain/)
    expect(prepared(new PreparedTrust(old, noKeys), real)).toBe(plain(old, real))
  })
})

describe('PreparedCertificate', () => {
  const certs = [
    ...rootJson.certificateAuthorities.flatMap((ca: any) => ca.certChain.certificates.map((c: any) => c.rawBytes)),
    ...realAttestations.attestations[0].bundle.verificationMaterial.x509CertificateChain.certificates.map((c: any) => c.rawBytes),
    ROGUE_ROOT, ROGUE_INTERMEDIATE, ROGUE_LEAF,
  ].map((b64: string) => X509Certificate.parse(Buffer.from(b64, 'base64')))

  it('encodes exactly as ASN1Obj.toDER does', () => {
    for (const cert of certs) {
      expect(encodeDER(cert.root).equals(cert.root.toDER())).toBe(true)
      expect(encodeDER(cert.tbsCertificate).equals(cert.tbsCertificate.toDER())).toBe(true)
      const p = PreparedCertificate.from(cert)
      expect(p.der.equals(cert.root.toDER())).toBe(true)
      expect(p.publicKey.equals(cert.publicKey)).toBe(true)
      expect(p.equals(cert)).toBe(true)
      expect(p.clone().root.toDER().equals(cert.clone().root.toDER())).toBe(true)
    }
  })

  it('verifies as the base class does, and a clone can be edited without touching the original', () => {
    const [leaf, intermediate, root] = realAttestations.attestations[0].bundle.verificationMaterial.x509CertificateChain.certificates
      .map((c: any) => X509Certificate.parse(Buffer.from(c.rawBytes, 'base64')))
    const p = PreparedCertificate.from(leaf)
    const pi = PreparedCertificate.from(intermediate)
    for (const issuer of [intermediate, root, leaf, pi]) {
      expect(p.verify(issuer)).toBe(leaf.verify(issuer))
      expect(p.verify(issuer)).toBe(leaf.verify(issuer))
    }
    expect(p.verify(intermediate)).toBe(true)
    expect(pi.verify(root)).toBe(true)
    expect(PreparedCertificate.from(root).verify()).toBe(true)
    expect(p.verify()).toBe(false)

    const before = p.der
    const clone = p.clone()
    clone.extensions.splice(0, 1)
    expect(clone.tbsCertificate.toDER().length).toBeLessThan(p.tbsCertificate.toDER().length)
    expect(encodeDER(p.root).equals(before)).toBe(true)
    expect(p.extensions).toHaveLength(leaf.extensions.length)
  })
})
