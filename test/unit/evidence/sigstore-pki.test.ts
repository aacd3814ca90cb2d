// The test Sigstore PKI (test/fixtures/sigstore): what it makes must verify
// with the real verifier (verifyAttestations over @sigstore/verify), and
// every kind of forgery must not.
import { createHash } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { TrustedRoot } from '@sigstore/protobuf-specs'
import { verifyAttestations } from '../../../lib/evidence/provenance.js'
import { parseNpmKeys } from '../../../lib/evidence/keys.js'
import { createTestSigstore, type AttestationInput, type TestSigstore } from '../../fixtures/sigstore/index.js'

const integrityOf = (s: string) => `sha512-${createHash('sha512').update(s).digest('base64')}`
const COMMIT = 'c0ffee0000000000000000000000000000c0ffee'
const pkg: AttestationInput = {
  name: '@fixture/left-pad',
  version: '1.3.0',
  integrity: integrityOf('left-pad tarball bytes'),
  repository: 'https://github.com/fixture-org/left-pad',
  commit: COMMIT,
  ref: 'refs/tags/v1.3.0',
  workflow: '.github/workflows/publish.yml',
  trigger: 'release',
}

let pki: TestSigstore
let root: TrustedRoot
beforeAll(() => {
  pki = createTestSigstore()
  root = TrustedRoot.fromJSON(pki.trustedRoot)
})

const verify = (attestations: unknown, over: Partial<{ name: string, version: string, integrity: string, root: TrustedRoot }> = {}) =>
  verifyAttestations({
    name: over.name ?? pkg.name,
    version: over.version ?? pkg.version,
    integrity: over.integrity ?? pkg.integrity,
    attestations,
    trustedRoot: over.root ?? root,
    trustedRootSource: 'embedded',
    keys: parseNpmKeys(pki.keysDocument()),
  })

/** the attestations with the DSSE payload of bundle `i` edited, its signature kept */
function editPayload (doc: any, i: number, edit: (payload: Buffer) => Buffer): any {
  const copy = structuredClone(doc)
  const env = copy.attestations[i].bundle.dsseEnvelope
  env.payload = edit(Buffer.from(env.payload, 'base64')).toString('base64')
  return copy
}

describe('test Sigstore PKI', () => {
  it('a generated provenance + publish attestation verifies, with the repository, commit, ref, workflow and trigger given', () => {
    const out = verify(pki.attestations(pkg))
    expect(out).toMatchObject({
      status: 'verified',
      sourceRepository: 'https://github.com/fixture-org/left-pad',
      commit: COMMIT,
      ref: 'refs/tags/v1.3.0',
      workflow: '.github/workflows/publish.yml',
      buildTrigger: 'release',
      builder: 'https://github.com/actions/runner/github-hosted',
      publishAttestation: 'verified',
    })
    expect(out.rekorLogIndex).toMatch(/^\d+$/)
    expect(out.reason).toBeUndefined()
  })

  it('the bundles are v0.3 with a Fulcio leaf of their own, an SCT, an inclusion promise and an inclusion proof', () => {
    const a = pki.attestations(pkg).attestations
    const b = pki.attestations(pkg).attestations
    const prov = a[0]!.bundle
    expect(prov.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json')
    expect(prov.verificationMaterial.certificate.rawBytes).not.toBe(b[0]!.bundle.verificationMaterial.certificate.rawBytes)
    const entry = prov.verificationMaterial.tlogEntries[0]
    expect(entry.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' })
    expect(entry.inclusionPromise.signedEntryTimestamp).toBeTruthy()
    expect(entry.inclusionProof.hashes.length).toBeGreaterThan(10)
    expect(entry.inclusionProof.checkpoint.envelope).toMatch(/\n\n\u2014 /)
    expect(a[1]!.bundle.verificationMaterial.publicKey).toEqual({ hint: pki.registryKey.keyid })
  })

  it('a byte changed in the provenance statement is refused', () => {
    const doc = editPayload(pki.attestations(pkg), 0, p => Buffer.from(p.toString('utf8').replace(COMMIT, COMMIT.replace(/^c/, 'd'))))
    const out = verify(doc)
    expect(out.status).toBe('invalid')
    // the Rekor entry names the digest of the payload that was signed
    expect(out.reason).toMatch(/^provenance: (DSSE payload hash mismatch|signature verification failed)/)
    expect(out.publishAttestation).toBe('verified')
  })

  it('a byte changed in the publish attestation is refused', () => {
    const doc = editPayload(pki.attestations(pkg), 1, p => Buffer.from(p.toString('utf8').replace('"1.3.0"', '"1.3.1"')))
    expect(verify(doc)).toMatchObject({ status: 'invalid', publishAttestation: 'invalid' })
  })

  it('the bundles of another package are refused', () => {
    const out = verify(pki.attestations(pkg), { name: '@fixture/right-pad' })
    expect(out.status).toBe('invalid')
    expect(out.reason).toMatch(/the statement is about pkg:npm\/%40fixture\/left-pad@1\.3\.0, not pkg:npm\/%40fixture\/right-pad@1\.3\.0/)
  })

  it('a wrong digest (other bytes under the same name and version) is refused', () => {
    const out = verify(pki.attestations(pkg), { integrity: integrityOf('other bytes') })
    expect(out.status).toBe('invalid')
    expect(out.reason).toMatch(/the attested sha512 [0-9a-f]+ is not the lockfile integrity's/)
  })

  it('a leaf from a CA that is not in the trusted root is refused', () => {
    const foreign = createTestSigstore({ registryKey: pki.registryKey })
    const doc = { attestations: [foreign.attestations(pkg).attestations[0]] }
    const out = verify(doc)
    expect(out.status).toBe('invalid')
    expect(out.reason).toMatch(/^provenance: Failed to verify certificate chain/)
    // ...and verifies against its own root
    expect(verify(doc, { root: TrustedRoot.fromJSON(foreign.trustedRoot) }).status).toBe('verified')
  })

  it('a publish attestation signed by a key the registry does not list is not checked (npm: a missing key); one naming a listed key must verify', () => {
    const other = createTestSigstore()
    const doc = { attestations: [pki.attestations(pkg).attestations[0], other.attestations(pkg).attestations[1]] }
    const out = verify(doc)
    expect(out).toMatchObject({ status: 'verified', publishAttestation: undefined })
    expect(out.reason).toContain(`signed by key ${other.registryKey.keyid}, which the registry does not serve`)
    const forged = structuredClone(doc)
    forged.attestations[1]!.bundle.verificationMaterial.publicKey!.hint = pki.registryKey.keyid
    expect(verify(forged)).toMatchObject({ status: 'invalid', publishAttestation: 'invalid' })
  })

  it('a certificate swapped into another bundle (signature by another leaf) is refused', () => {
    const a = pki.attestations(pkg)
    const b = pki.attestations(pkg)
    a.attestations[0]!.bundle.verificationMaterial.certificate = b.attestations[0]!.bundle.verificationMaterial.certificate
    expect(verify(a)).toMatchObject({ status: 'invalid', reason: 'provenance: signature verification failed' })
  })

  it('with the public-good CAs in the root too, a generated bundle still verifies', () => {
    const wide = createTestSigstore({ publicGood: true })
    const json = wide.trustedRoot
    expect(json.certificateAuthorities.length).toBeGreaterThan(1)
    const out = verifyAttestations({
      ...pkg,
      attestations: wide.attestations(pkg),
      trustedRoot: TrustedRoot.fromJSON(json),
      keys: parseNpmKeys(wide.keysDocument()),
    })
    expect(out).toMatchObject({ status: 'verified', commit: COMMIT, publishAttestation: 'verified' })
  })

  it('makes a thousand versions\' attestations in seconds', () => {
    const t = performance.now()
    for (let i = 0; i < 200; i++) pki.attestations({ ...pkg, version: `1.0.${i}` })
    const ms = (performance.now() - t) / 200
    // about 2.5 ms on one core; generous for a loaded machine
    expect(ms).toBeLessThan(25)
  })
})
