import { describe, expect, it } from 'vitest'
import { TrustedRoot } from '@sigstore/protobuf-specs'
import {
  attestationsUrl, extractProvenanceFields, provenanceCheck, verifyAttestations, SLSA_PROVENANCE_V1,
} from '../../../lib/evidence/provenance.js'
import { embeddedTarget } from '../../../lib/evidence/tuf.js'
import { EvidenceRun } from '../../../lib/evidence/run.js'
import { signaturesCheck } from '../../../lib/evidence/signatures.js'
import { npmPurl } from '../../../lib/evidence/util.js'
import { parseNpmKeys } from '../../../lib/evidence/keys.js'
import {
  embeddedKeys, fakeCtx, fakeOptions, fakePkg, offlineRun, PROXY, PUBLIC, REAL_INTEGRITY, realAttestations, realPkg, tamperIntegrity, testRegistryKey,
} from './helpers.js'
import { PUBLIC_HOST, PUBLIC_REGISTRY } from '../../helpers/registry-host.js'

const root = TrustedRoot.fromJSON(JSON.parse(embeddedTarget('trusted_root.json')!))
const base = { name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, trustedRoot: root, trustedRootSource: 'embedded' as const }
const ATT_URL = `${PUBLIC}-/npm/v1/attestations/sigstore@1.0.0`
/** the npm registry key that signed the real publish attestation */
const NPM_KEYID = 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA'

/** A copy of the attestations with the statement of bundle `i` edited (the signature is kept). */
function editStatement (i: number, edit: (payload: string) => string) {
  const copy = structuredClone(realAttestations)
  const env = copy.attestations[i].bundle.dsseEnvelope
  const payload = Buffer.from(env.payload, 'base64').toString('utf8')
  const changed = edit(payload)
  expect(changed).not.toBe(payload)
  env.payload = Buffer.from(changed).toString('base64')
  return copy
}

describe('verifyAttestations (offline, embedded trusted root)', () => {
  it('verifies the genuine sigstore@1.0.0 provenance and publish attestation', () => {
    const out = verifyAttestations({ ...base, attestations: realAttestations, keys: embeddedKeys() })
    expect(out).toMatchObject({
      status: 'verified',
      sourceRepository: 'https://github.com/sigstore/sigstore-js',
      commit: '06528997c3c8ab9f864fad9a3658446aca7fd86d',
      ref: 'refs/tags/v1.0.0',
      workflow: '.github/workflows/publish.yml',
      builder: 'https://github.com/npm/cli@9.4.2',
      buildTrigger: 'release',
      rekorLogIndex: '12988397',
      publishAttestation: 'verified',
      trustedRootSource: 'embedded',
    })
  })

  it('a byte changed in the provenance statement is invalid', () => {
    const copy = editStatement(0, p => p.replace('06528997c3c8ab9f864fad9a3658446aca7fd86d', '06528997c3c8ab9f864fad9a3658446aca7fd86e'))
    const out = verifyAttestations({ ...base, attestations: copy, keys: embeddedKeys() })
    expect(out.status).toBe('invalid')
    expect(out.reason).toMatch(/^provenance:/)
  })

  it('a byte changed in the publish attestation is invalid', () => {
    const copy = editStatement(1, p => p.replace(`"registry":"${PUBLIC_REGISTRY.slice(0, -1)}"`, `"registry":"${PUBLIC_REGISTRY}"`))
    const out = verifyAttestations({ ...base, attestations: copy, keys: embeddedKeys() })
    expect(out).toMatchObject({ status: 'invalid', publishAttestation: 'invalid' })
  })

  it('the bundles of another package (subject mismatch) are invalid', () => {
    const other = verifyAttestations({ ...base, name: 'sigstore-evil', attestations: realAttestations, keys: embeddedKeys() })
    expect(other.status).toBe('invalid')
    expect(other.reason).toMatch(/pkg:npm\/sigstore@1\.0\.0, not pkg:npm\/sigstore-evil@1\.0\.0/)
    const otherVersion = verifyAttestations({ ...base, version: '1.0.1', attestations: realAttestations, keys: embeddedKeys() })
    expect(otherVersion.status).toBe('invalid')
  })

  it('other bytes than the lockfile integrity are invalid', () => {
    const out = verifyAttestations({ ...base, integrity: tamperIntegrity(REAL_INTEGRITY), attestations: realAttestations, keys: embeddedKeys() })
    expect(out.status).toBe('invalid')
    expect(out.reason).toMatch(/sha512/)
  })

  it('a publish attestation signed by a key the registry does not serve: not checked, and said which key (as npm reports a missing key)', () => {
    // e.g. a private registry with keys of its own, proxying npm's attestations
    const own = testRegistryKey('SHA256:private-registry-key')
    const out = verifyAttestations({ ...base, attestations: realAttestations, keys: parseNpmKeys(own.doc) })
    expect(out.status).toBe('verified')
    expect(out.publishAttestation).toBeUndefined()
    expect(out.reason).toBe(`the publish attestation was not checked: it is signed by key ${NPM_KEYID}, which the registry does not serve`)
    const renamed = embeddedKeys().map(k => ({ ...k, keyid: `${k.keyid}-other` }))
    expect(verifyAttestations({ ...base, attestations: realAttestations, keys: renamed })).toMatchObject({ status: 'verified', publishAttestation: undefined })
    // alone, it leaves provenance absent and the publish attestation unchecked
    const only = verifyAttestations({ ...base, attestations: { attestations: [realAttestations.attestations[1]] }, keys: renamed })
    expect(only).toMatchObject({ status: 'absent', publishAttestation: undefined })
    expect(only.reason).toMatch(/no provenance attestation; the publish attestation was not checked: it is signed by key SHA256:/)
  })

  it('a publish attestation naming a served key that does not verify it, or that had expired, is invalid', () => {
    // the registry serves a key with npm's keyid but other key material
    const impostor = parseNpmKeys(testRegistryKey(NPM_KEYID).doc)
    const out = verifyAttestations({ ...base, attestations: realAttestations, keys: impostor })
    expect(out).toMatchObject({ status: 'invalid', publishAttestation: 'invalid' })
    expect(out.reason).toMatch(/^publish attestation: /)
    const expired = embeddedKeys().map(k => ({ ...k, expires: '2023-01-01T00:00:00.000Z' }))
    expect(verifyAttestations({ ...base, attestations: realAttestations, keys: expired })).toMatchObject({ status: 'invalid', publishAttestation: 'invalid' })
    // a tampered publish attestation by the served key stays invalid too (see above); the hint is read, not trusted
    const rehinted = structuredClone(realAttestations)
    rehinted.attestations[1].bundle.verificationMaterial.publicKey.hint = 'SHA256:private-registry-key'
    const own = parseNpmKeys(testRegistryKey('SHA256:private-registry-key').doc)
    expect(verifyAttestations({ ...base, attestations: rehinted, keys: own })).toMatchObject({ status: 'invalid', publishAttestation: 'invalid' })
  })

  it('without registry keys the provenance still verifies; the publish attestation is not checked', () => {
    const out = verifyAttestations({ ...base, attestations: realAttestations })
    expect(out.status).toBe('verified')
    expect(out.publishAttestation).toBeUndefined()
    expect(out.reason).toMatch(/not checked/)
  })

  it('a provenance bundle re-signed by a key (not a Sigstore certificate) is invalid', () => {
    const copy = structuredClone(realAttestations)
    copy.attestations[0].bundle.verificationMaterial = structuredClone(realAttestations.attestations[1].bundle.verificationMaterial)
    expect(verifyAttestations({ ...base, attestations: copy, keys: embeddedKeys() }).status).toBe('invalid')
  })

  it('only the publish attestation: provenance absent', () => {
    const copy = { attestations: [realAttestations.attestations[1]] }
    expect(verifyAttestations({ ...base, attestations: copy, keys: embeddedKeys() })).toMatchObject({ status: 'absent', publishAttestation: 'verified' })
  })

  it('nothing served: not-checked', () => {
    expect(verifyAttestations({ ...base, attestations: { attestations: [] } }).status).toBe('not-checked')
  })
})

describe('extractProvenanceFields', () => {
  it('reads SLSA v1 as npm writes it on GitHub Actions', () => {
    const predicate = {
      buildDefinition: {
        buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
        externalParameters: { workflow: { ref: 'refs/tags/v2.0.0', repository: 'https://github.com/o/r', path: '.github/workflows/release.yml' } },
        internalParameters: { github: { event_name: 'push', repository_id: '1', repository_owner_id: '2' } },
        resolvedDependencies: [{ uri: 'git+https://github.com/o/r@refs/tags/v2.0.0', digest: { gitCommit: 'abc123' } }],
      },
      runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' }, metadata: { invocationId: 'x' } },
    }
    expect(extractProvenanceFields(SLSA_PROVENANCE_V1, predicate)).toEqual({
      sourceRepository: 'https://github.com/o/r',
      commit: 'abc123',
      ref: 'refs/tags/v2.0.0',
      workflow: '.github/workflows/release.yml',
      builder: 'https://github.com/actions/runner/github-hosted',
      buildTrigger: 'push',
    })
  })

  it('reads SLSA v0.2 as npm writes it on GitLab', () => {
    const predicate = {
      buildType: 'https://github.com/npm/cli/gitlab/v0alpha1',
      builder: { id: 'https://gitlab.com/g/p/-/runners/1' },
      invocation: {
        configSource: { uri: 'git+https://gitlab.com/g/p', digest: { sha1: 'def456' }, entryPoint: 'publish' },
        parameters: { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_REF_NAME: 'main', CI_CONFIG_PATH: '.gitlab-ci.yml' },
      },
    }
    expect(extractProvenanceFields('https://slsa.dev/provenance/v0.2', predicate)).toEqual({
      sourceRepository: 'https://gitlab.com/g/p',
      commit: 'def456',
      ref: 'main',
      workflow: '.gitlab-ci.yml',
      builder: 'https://gitlab.com/g/p/-/runners/1',
      buildTrigger: 'push',
    })
  })
})

describe('URLs and subjects', () => {
  it('escapes scoped names as npm does', () => {
    expect(attestationsUrl(PUBLIC, '@sigstore/verify', '1.0.0')).toBe(`${PUBLIC_REGISTRY}-/npm/v1/attestations/@sigstore%2fverify@1.0.0`)
    expect(npmPurl('@sigstore/verify', '1.0.0')).toBe('pkg:npm/%40sigstore/verify@1.0.0')
    expect(npmPurl('sigstore', '1.0.0')).toBe('pkg:npm/sigstore@1.0.0')
  })
})

describe('provenanceCheck', () => {
  it('fetches the attestations, verifies offline, caches the result', async () => {
    const ctx = fakeCtx({ fetch: { [ATT_URL]: realAttestations } })
    const res = await provenanceCheck(offlineRun()).check!(realPkg(), ctx)
    expect(res.evidence?.provenance).toMatchObject({ status: 'verified', commit: '06528997c3c8ab9f864fad9a3658446aca7fd86d', publishAttestation: 'verified', trustedRootSource: 'embedded' })
    expect(res.violations).toEqual([])
    expect(ctx.notes.some(n => n.check === 'provenance' && /offline copy of the Sigstore trusted root/.test(n.message))).toBe(true)

    const warm = fakeCtx({ factStore: ctx.factStore })
    const again = await provenanceCheck(new EvidenceRun({ tuf: { target: () => { throw new Error('no TUF on a warm run') } } })).check!(realPkg(), warm)
    expect(again.evidence?.provenance).toMatchObject({ status: 'verified', sourceRepository: 'https://github.com/sigstore/sigstore-js' })
    expect(warm.calls).toEqual([])
  })

  it('a tampered statement: ESIPROVINVALID (even under verify)', async () => {
    const copy = editStatement(0, p => p.replace('sigstore/sigstore-js', 'evil/sigstore-js'))
    const res = await provenanceCheck(offlineRun()).check!(realPkg(), fakeCtx({ fetch: { [ATT_URL]: copy } }))
    expect(res.violations?.map(v => v.code)).toEqual(['ESIPROVINVALID'])
  })

  it('absent: fine under verify, ESIPROVMISSING when required (all or by name/scope)', async () => {
    const pkg = fakePkg({ name: '@acme/lib', version: '1.0.0', integrity: REAL_INTEGRITY, registryManifest: { dist: { integrity: REAL_INTEGRITY } } })
    // the registry serves its keys (so it does not strip signing evidence)
    const fetch = { [`${PUBLIC}-/npm/v1/keys`]: testRegistryKey().doc }
    const verify = await provenanceCheck(offlineRun()).check!(pkg, fakeCtx({ fetch }))
    expect(verify.evidence?.provenance?.status).toBe('absent')
    expect(verify.violations).toEqual([])
    const all = await provenanceCheck(offlineRun()).check!(pkg, fakeCtx({ fetch, options: fakeOptions({ provenance: 'require' }) }))
    expect(all.violations?.map(v => v.code)).toEqual(['ESIPROVMISSING'])
    expect(all.violations?.[0].message).toBe('@acme/lib@1.0.0: provenance is required but the version has none')
    const scoped = await provenanceCheck(offlineRun()).check!(pkg, fakeCtx({ fetch, options: fakeOptions({ provenance: 'require', provenanceRequireFor: ['@acme/*'] }) }))
    expect(scoped.violations?.map(v => v.code)).toEqual(['ESIPROVMISSING'])
    const other = await provenanceCheck(offlineRun()).check!(pkg, fakeCtx({ fetch, options: fakeOptions({ provenance: 'require', provenanceRequireFor: ['left-pad'] }) }))
    expect(other.violations).toEqual([])
  })

  it('advertised but the endpoint 404s: not-checked, noted once', async () => {
    const check = provenanceCheck(offlineRun())
    const ctx = fakeCtx()
    const res = await check.check!(realPkg(), ctx)
    expect(res.evidence?.provenance?.status).toBe('not-checked')
    expect(res.violations).toEqual([])
    await check.finish!([realPkg()], ctx)
    expect(ctx.notes.map(n => n.message)).toEqual([`1 package could not be checked for provenance: attestations are advertised but ${PUBLIC_HOST} answered 404.`])
  })
})

describe('provenance behind a registry that serves no signing evidence', () => {
  const bare = (registry = PROXY) => fakePkg({ name: 'left-pad', version: '1.3.0', integrity: REAL_INTEGRITY, registry, registryManifest: { dist: { integrity: REAL_INTEGRITY } } })
  const PROXY_KEYS = `${PROXY}-/npm/v1/keys`
  const STRIPPED = /^proxy\.example\.test\/npm serves no signing keys, so a missing attestation proves nothing \(a mirror or proxy that strips signing evidence\? `signaturesRegistry` can name a registry that serves it\)$/

  it('no keys (404): not-checked, not absent; required, it "could not be checked"; one note for all', async () => {
    const check = provenanceCheck(offlineRun())
    const ctx = fakeCtx({ options: fakeOptions({}, { registry: PROXY }) })
    const res = await check.check!(bare(), ctx)
    expect(res.evidence?.provenance).toMatchObject({ status: 'not-checked' })
    expect(res.evidence?.provenance?.reason).toMatch(STRIPPED)
    expect(res.violations).toEqual([])
    await check.check!(fakePkg({ name: 'b', version: '1.0.0', integrity: tamperIntegrity(REAL_INTEGRITY), registry: PROXY, registryManifest: { dist: {} } }), ctx)
    // keys are asked once per run
    expect(ctx.calls).toEqual([PROXY_KEYS])
    await check.finish!([], ctx)
    expect(ctx.notes.map(n => n.message)).toEqual([
      '2 packages could not be checked for provenance: proxy.example.test/npm serves no signing keys, so a missing attestation proves nothing ' +
        '(a mirror or proxy that strips signing evidence? `signaturesRegistry` can name a registry that serves it).',
    ])

    const required = await provenanceCheck(offlineRun()).check!(bare(), fakeCtx({ options: fakeOptions({ provenance: 'require' }, { registry: PROXY }) }))
    expect(required.violations?.map(v => v.code)).toEqual(['ESIPROVMISSING'])
    expect(required.violations?.[0].message).toMatch(/^left-pad@1\.3\.0: provenance is required but could not be checked: proxy\.example\.test\/npm serves no signing keys/)
    expect(required.violations?.[0].fix).toMatch(/signaturesRegistry/)
  })

  it('a keys document that lists none: not-checked; keys served: absent', async () => {
    const none = await provenanceCheck(offlineRun()).check!(bare(), fakeCtx({ fetch: { [PROXY_KEYS]: { keys: [] } } }))
    expect(none.evidence?.provenance?.reason).toMatch(STRIPPED)
    const served = await provenanceCheck(offlineRun()).check!(bare(), fakeCtx({ fetch: { [PROXY_KEYS]: testRegistryKey().doc } }))
    expect(served.evidence?.provenance).toEqual({ status: 'absent', reason: 'proxy.example.test/npm advertises no attestations for this version' })
  })

  it('keys that could not be fetched: not-checked, saying so', async () => {
    const res = await provenanceCheck(offlineRun()).check!(bare(), fakeCtx({ fetch: { [PROXY_KEYS]: new Error('ECONNRESET') } }))
    expect(res.evidence?.provenance?.status).toBe('not-checked')
    expect(res.evidence?.provenance?.reason).toMatch(/^the registry's signing keys could not be fetched from proxy\.example\.test \(ECONNRESET\), so a missing attestation proves nothing/)
  })

  it('the public registry\'s URL, keys only from the offline copy, and its endpoint serves none: not-checked', async () => {
    const res = await provenanceCheck(offlineRun()).check!(bare(PUBLIC), fakeCtx())
    expect(res.evidence?.provenance?.status).toBe('not-checked')
    expect(res.evidence?.provenance?.reason).toMatch(/serves no signing keys, so a missing attestation proves nothing/)
  })

  it('with signatures off, nothing is known about the registry\'s keys and none are fetched for this: absent', async () => {
    const ctx = fakeCtx({ options: fakeOptions({ signatures: 'off' }) })
    const res = await provenanceCheck(offlineRun()).check!(bare(), ctx)
    expect(res.evidence?.provenance?.status).toBe('absent')
    expect(ctx.calls).toEqual([])
  })

  it('the keys are the ones the signatures check loaded for the run: asked for once', async () => {
    const run = offlineRun()
    const ctx = fakeCtx({ fetch: { [PROXY_KEYS]: testRegistryKey().doc } })
    await signaturesCheck(run).check!(bare(), ctx)
    const res = await provenanceCheck(run).check!(bare(), ctx)
    expect(res.evidence?.provenance?.status).toBe('absent')
    expect(ctx.calls).toEqual([PROXY_KEYS])
  })
})
