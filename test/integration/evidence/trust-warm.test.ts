// Trust downgrade (a version published with weaker evidence than an earlier
// one) and the warm reinstall: verified signatures and provenance are facts
// about an integrity, cached, so a second install redoes no evidence requests.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startRegistry } from '../../fixtures/registry/index.js'
import {
  SLOW, codes, evidenceOf, evidenceRequests, REAL_PUBLISHED, realAttestations, realTarball, setupOn, startStoreRegistry, type Setup,
} from './helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

describe('trust downgrade', { timeout: SLOW }, () => {
  it('1.0.0 by a trusted publisher with provenance, 1.1.0 later with neither: warning; no-downgrade refuses; exclude or ignore-after installs', async () => {
    const reg = await startRegistry()
    await reg.publish({
      name: 'tp',
      version: '1.0.0',
      npmUser: { name: 'GitHub Actions', email: 'npm-oidc-no-reply@github.com', trustedPublisher: { id: 'github', oidcConfigId: 'oidc:0000' } },
    })
    // dist.attestations is advertised only once attestations are set; trust.ts
    // reads the level from dist.attestations + _npmUser.trustedPublisher of the
    // FULL packument, so the body itself is never fetched for 1.0.0.
    reg.setAttestations('tp', '1.0.0', { attestations: [] })
    await reg.publish({ name: 'tp', version: '1.1.0' })
    await reg.publish({ name: 'leaf', version: '1.0.0' })
    s = await setupOn(reg, { dependencies: { tp: '^1.0.0', leaf: '1.0.0' } })
    expect(s.lockfile().packages['node_modules/tp'].version).toBe('1.1.0')

    const refused = await s.siJson(['ci', '--trust-policy', 'no-downgrade'])
    expect(refused.code).toBe(1)
    expect(codes(refused.report)).toEqual(['ESITRUSTDOWNGRADE'])
    expect(refused.report.violations[0]).toMatchObject({ package: 'tp@1.1.0', severity: 'error' })
    expect(refused.report.violations[0].message).toMatch(/published with registry signature only, but 1\.0\.0 \(published earlier\) had trusted publisher with provenance/)
    expect(fs.existsSync(s.nodeModules)).toBe(false)

    // the version is 30 days old: --trust-policy-ignore-after 7 lets it through, still reported
    const old = await s.siJson(['verify', '--trust-policy', 'no-downgrade', '--trust-policy-ignore-after', '7'])
    expect(old.code).toBe(0)
    expect(old.report.warnings.filter((w: any) => w.code === 'ESITRUSTDOWNGRADE')[0].message).toMatch(/beyond trustIgnoreAfterDays/)

    const excluded = await s.siJson(['ci', '--trust-policy', 'no-downgrade', '--trust-policy-exclude', 'tp'])
    expect(excluded.code).toBe(0)
    const w = excluded.report.warnings.filter((x: any) => x.code === 'ESITRUSTDOWNGRADE')
    expect(w).toHaveLength(1)
    expect(w[0]).toMatchObject({ package: 'tp@1.1.0', severity: 'warning' })
    expect(w[0].message).toMatch(/excluded by trustExclude/)
    fs.rmSync(s.nodeModules, { recursive: true })

    // default policy (report): a warning, installed
    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(0)
    expect(evidenceOf(report, 'tp').trust).toMatchObject({ level: 1, downgrade: true, previous: { version: '1.0.0', level: 3 } })
    expect(evidenceOf(report, 'leaf').trust).toMatchObject({ level: 1, downgrade: false })
    const warns = report.warnings.filter((x: any) => x.code === 'ESITRUSTDOWNGRADE')
    expect(warns).toHaveLength(1)
    expect(warns[0]).toMatchObject({ package: 'tp@1.1.0', path: 'node_modules/tp', severity: 'warning' })
    expect(fs.existsSync(path.join(s.nodeModules, 'tp/package.json'))).toBe(true)
  })
})

describe('warm reinstall: no evidence requests', { timeout: SLOW }, () => {
  it('signatures and provenance verified once are not fetched or verified again after rm -rf node_modules', async () => {
    // a registry that serves keys and signs the real sigstore bytes itself, and
    // serves only the real provenance bundle (npm's publish attestation is
    // signed by a key this registry does not list; see provenance.test.ts)
    const reg = await startStoreRegistry()
    await reg.publishTarball(realTarball(), { time: REAL_PUBLISHED })
    await reg.publish({ name: 'make-fetch-happen', version: '11.0.1' })
    await reg.publish({ name: 'tuf-js', version: '1.0.0' })
    await reg.publish({ name: 'leaf', version: '1.0.0' })
    reg.setAttestations('sigstore', '1.0.0', { attestations: realAttestations.attestations.filter((a: any) => a.predicateType.startsWith('https://slsa.dev/provenance/')) })
    s = await setupOn(reg, { dependencies: { sigstore: '1.0.0', leaf: '1.0.0' } })

    reg.requests.length = 0
    const cold = await s.siJson(['ci'])
    expect(cold.code).toBe(0)
    expect(evidenceRequests(reg.requests).sort()).toEqual(['/-/npm/v1/attestations/sigstore@1.0.0', '/-/npm/v1/keys'])
    for (const name of ['sigstore', 'leaf', 'tuf-js', 'make-fetch-happen']) {
      expect(evidenceOf(cold.report, name).signature).toMatchObject({ status: 'verified', keyid: reg.keyId })
    }
    expect(evidenceOf(cold.report, 'sigstore').provenance).toMatchObject({ status: 'verified', publishAttestation: 'absent', trustedRootSource: 'embedded' })
    expect(cold.report.notes.some((n: any) => /offline copy of the Sigstore trusted root/.test(n.message))).toBe(true)

    fs.rmSync(s.nodeModules, { recursive: true })
    reg.requests.length = 0
    const warm = await s.siJson(['ci'])
    expect(warm.code).toBe(0)
    // the same inputs and keys: the cold run's verdicts are replayed (lib/replay.ts)
    expect(warm.report.replayed).toBe(true)
    expect(warm.report.stats.fromCache).toBe(4)
    // only the registry's keys, once: a verdict counts while its key is still served
    expect(evidenceRequests(reg.requests)).toEqual(['/-/npm/v1/keys'])
    expect(reg.requests.some(r => r.path.endsWith('.tgz'))).toBe(false)
    for (const name of ['sigstore', 'leaf', 'tuf-js', 'make-fetch-happen']) {
      expect(evidenceOf(warm.report, name).signature).toMatchObject({ status: 'verified', keyid: reg.keyId })
    }
    expect(evidenceOf(warm.report, 'sigstore').provenance).toMatchObject({ status: 'verified', sourceRepository: 'https://github.com/sigstore/sigstore-js' })
    expect(fs.existsSync(path.join(s.nodeModules, 'sigstore/package.json'))).toBe(true)

    // another policy (an audit level) is not replayed: the verdicts come from
    // the facts cache, still with no request but the keys
    fs.rmSync(s.nodeModules, { recursive: true })
    reg.requests.length = 0
    const facts = await s.siJson(['ci', '--audit-level', 'critical'])
    expect(facts.code).toBe(0)
    expect(facts.report.replayed).toBe(false)
    expect(evidenceRequests(reg.requests)).toEqual(['/-/npm/v1/keys'])
    expect(reg.requests.some(r => r.path.endsWith('.tgz'))).toBe(false)
    expect(evidenceOf(facts.report, 'sigstore').provenance).toMatchObject({ status: 'verified', sourceRepository: 'https://github.com/sigstore/sigstore-js' })
    // the Sigstore trusted root was not even loaded (its note comes with loading it)
    expect(facts.report.notes.some((n: any) => /Sigstore trusted root/.test(n.message))).toBe(false)

    // the registry no longer lists the key: the cached verdicts are not reused
    reg.setKeysServed(false)
    fs.rmSync(s.nodeModules, { recursive: true })
    const after = await s.siJson(['ci'])
    expect(after.code).toBe(0)
    expect(after.report.replayed).toBe(false)
    for (const name of ['sigstore', 'leaf', 'tuf-js', 'make-fetch-happen']) {
      expect(evidenceOf(after.report, name).signature.status).toBe('not-checked')
    }
  })
})
