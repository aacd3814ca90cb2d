// Sigstore provenance (SCVS 4.10) and identity (SCVS 4.3-4.5) through the
// real CLI, with the REAL sigstore@1.0.0: its npm tarball (so the lockfile
// integrity is the one the in-toto subject names) and its attestations as
// the npm registry served them. The trusted root is the copy embedded in
// @sigstore/tuf: TUF is made unreachable (see DEAD_TUF_ENV) and the CLI must
// say so.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { PublishSpec } from '../../fixtures/registry/index.js'
import { DiskFacts } from '../../../lib/fetch/facts.js'
import { storePaths } from '../../../lib/fetch/store.js'
import {
  SLOW, codes, evidenceOf, NPM_REGISTRY_KEYID, REAL_INTEGRITY, REAL_PUBLISHED, realAttestations, realTarball, setupOn,
  startStoreRegistry, type Setup, type StoreRegistry,
} from './helpers.js'

const COMMIT = '06528997c3c8ab9f864fad9a3658446aca7fd86d'
let tarball: Buffer
beforeAll(() => { tarball = realTarball() })

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

const caches: string[] = []
/** an empty npm cache for one run (so it verifies everything again), removed after the test */
function freshCache (): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'si-cache-'))
  caches.push(dir)
  return dir
}
afterEach(() => { for (const dir of caches.splice(0)) fs.rmSync(dir, { recursive: true, force: true }) })

/** A registry with the real sigstore@1.0.0 (and stubs for its two dependencies). */
async function sigstoreRegistry (opts: { keys?: boolean, attestations?: unknown, extra?: PublishSpec[] } = {}): Promise<StoreRegistry> {
  const reg = await startStoreRegistry({ keys: opts.keys })
  const pub = await reg.publishTarball(tarball, { time: REAL_PUBLISHED })
  expect(pub.integrity).toBe(REAL_INTEGRITY)
  await reg.publish({ name: 'make-fetch-happen', version: '11.0.1' })
  await reg.publish({ name: 'tuf-js', version: '1.0.0' })
  for (const p of opts.extra ?? []) await reg.publish(p)
  if (opts.attestations !== undefined) reg.setAttestations('sigstore', '1.0.0', opts.attestations)
  return reg
}

/** The real attestations with the DSSE payload of bundle `i` edited (its signature kept). */
function editPayload (i: number, edit: (payload: string) => string): any {
  const copy = structuredClone(realAttestations)
  const env = copy.attestations[i].bundle.dsseEnvelope
  const payload = Buffer.from(env.payload, 'base64').toString('utf8')
  const changed = edit(payload)
  expect(changed).not.toBe(payload)
  env.payload = Buffer.from(changed).toString('base64')
  return copy
}

const EMBEDDED_ROOT_NOTE = /Provenance was verified against the offline copy of the Sigstore trusted root shipped inside @sigstore\/tuf, not a fresh one/

describe('provenance: the real sigstore@1.0.0', { timeout: SLOW }, () => {
  it('verified offline with the embedded trusted root (said plainly); identity matches; the publish attestation is not checked without registry keys', async () => {
    const reg = await sigstoreRegistry({ keys: false, attestations: realAttestations })
    s = await setupOn(reg, { dependencies: { sigstore: '1.0.0' } })
    expect(s.lockfile().packages['node_modules/sigstore'].integrity).toBe(REAL_INTEGRITY)

    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(0)
    const ev = evidenceOf(report, 'sigstore')
    expect(ev.provenance).toMatchObject({
      status: 'verified',
      commit: COMMIT,
      ref: 'refs/tags/v1.0.0',
      trustedRootSource: 'embedded',
    })
    expect(ev.provenance.sourceRepository).toContain('sigstore/sigstore-js')
    expect(ev.provenance.commit).toMatch(/^[0-9a-f]{40}$/)
    // The fixture registry serves no keys, so npm's publish attestation (signed
    // by the npm registry key) cannot be checked: said, not silently passed.
    expect(ev.provenance.publishAttestation).toBeUndefined()
    expect(ev.provenance.reason).toMatch(/publish attestation was not checked: no registry attestation keys/)
    expect(ev.identity).toMatchObject({ status: 'match', attested: 'https://github.com/sigstore/sigstore-js' })
    // a registry that serves no keys may be stripping attestations: their absence proves nothing
    expect(evidenceOf(report, 'tuf-js').provenance).toMatchObject({ status: 'not-checked', reason: expect.stringMatching(/serves no signing keys/) })

    const rootNotes = report.notes.filter((n: any) => EMBEDDED_ROOT_NOTE.test(n.message))
    expect(rootNotes).toHaveLength(1)
    expect(rootNotes[0]).toMatchObject({ check: 'provenance', level: 'warning' })
    // ...and why: the TUF repository could not be reached
    expect(rootNotes[0].message).toMatch(/tuf-repo-cdn\.sigstore\.dev|TUF|ECONNREFUSED|timed out/)
    expect(fs.existsSync(path.join(s.nodeModules, 'sigstore/package.json'))).toBe(true)

    // the human output says the same (a fresh cache, so provenance is verified again, not read from the facts)
    const freshCache = fs.mkdtempSync(path.join(os.tmpdir(), 'si-cache-'))
    try {
      const human = await s.si(['verify', '--cache', freshCache])
      expect(human.code).toBe(0)
      expect(human.stdout).toMatch(/provenance: .*1 verified/)
      expect(human.stdout).toMatch(/warn \[provenance\] Provenance was verified against the offline copy of the Sigstore trusted root/)
    } finally {
      fs.rmSync(freshCache, { recursive: true, force: true })
    }
  })

  it('a registry that serves its own keys but npm\'s publish attestation (signed by npm\'s key, which it does not list): provenance verified, the publish attestation not checked, saying which key', async () => {
    // as npm reports it: a missing key, not a bad signature
    const reg = await sigstoreRegistry({ keys: true, attestations: realAttestations })
    s = await setupOn(reg, { dependencies: { sigstore: '1.0.0' } })
    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(0)
    expect(codes(report)).toEqual([])
    const ev = evidenceOf(report, 'sigstore')
    expect(ev.provenance).toMatchObject({ status: 'verified', commit: COMMIT })
    expect(ev.provenance.publishAttestation).toBeUndefined()
    expect(ev.provenance.reason).toBe(`the publish attestation was not checked: it is signed by key ${NPM_REGISTRY_KEYID}, which the registry does not serve`)
    expect(ev.signature).toMatchObject({ status: 'verified', keyid: reg.keyId })
    expect(fs.existsSync(path.join(s.nodeModules, 'sigstore/package.json'))).toBe(true)
  })

  it('a byte changed in the DSSE payload, and the real bundles served for another package: ESIPROVINVALID each', async () => {
    const tampered = editPayload(0, p => p.replace(COMMIT, COMMIT.slice(0, -1) + 'e'))
    const reg = await sigstoreRegistry({
      keys: false,
      attestations: tampered,
      extra: [{ name: 'not-sigstore', version: '1.0.0' }],
    })
    reg.setAttestations('not-sigstore', '1.0.0', realAttestations)
    s = await setupOn(reg, { dependencies: { sigstore: '1.0.0', 'not-sigstore': '1.0.0' } })
    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(1)
    expect(codes(report)).toEqual(['ESIPROVINVALID', 'ESIPROVINVALID'])
    const byPkg = Object.fromEntries(report.violations.map((v: any) => [v.package, v]))
    expect(Object.keys(byPkg).sort()).toEqual(['not-sigstore@1.0.0', 'sigstore@1.0.0'])
    // the signature over the edited statement fails
    expect(byPkg['sigstore@1.0.0'].message).toMatch(/provenance does not verify: provenance: /)
    // genuine bundles, but about another package (and other bytes)
    expect(byPkg['not-sigstore@1.0.0'].message).toMatch(/the statement is about pkg:npm\/sigstore@1\.0\.0, not pkg:npm\/not-sigstore@1\.0\.0/)
    expect(fs.existsSync(s.nodeModules)).toBe(false)
  })
})

describe('provenance policy: --provenance require, --provenance-require <names>', { timeout: SLOW }, () => {
  it('require: every package without attestations is ESIPROVMISSING; a name list narrows it to those names', async () => {
    // a registry that serves its keys (and signs every version): attestations it does not advertise are absent
    const reg = await sigstoreRegistry({ keys: true, attestations: realAttestations, extra: [{ name: 'leaf', version: '1.0.0' }] })
    s = await setupOn(reg, { dependencies: { sigstore: '1.0.0', leaf: '1.0.0' } })

    const all = await s.siJson(['ci', '--provenance', 'require'])
    expect(all.code).toBe(1)
    expect(new Set(codes(all.report))).toEqual(new Set(['ESIPROVMISSING']))
    expect(all.report.violations.map((v: any) => v.package).sort())
      .toEqual(['leaf@1.0.0', 'make-fetch-happen@11.0.1', 'tuf-js@1.0.0'])
    expect(fs.existsSync(s.nodeModules)).toBe(false)

    const onlyLeaf = await s.siJson(['ci', '--provenance-require', 'leaf'])
    expect(onlyLeaf.code).toBe(1)
    expect(codes(onlyLeaf.report)).toEqual(['ESIPROVMISSING'])
    expect(onlyLeaf.report.violations[0].package).toBe('leaf@1.0.0')
    expect(onlyLeaf.report.violations[0].message).toMatch(/provenance is required but the version has none/)

    const onlySigstore = await s.siJson(['ci', '--provenance-require', 'sigstore'])
    expect(onlySigstore.code).toBe(0)
    expect(evidenceOf(onlySigstore.report, 'sigstore').provenance.status).toBe('verified')
    expect(evidenceOf(onlySigstore.report, 'leaf').provenance.status).toBe('absent')
    expect(onlySigstore.report.notes.filter((n: any) => n.check === 'provenance' && /could not be checked/.test(n.message))).toEqual([])
  })

  it('behind a registry that serves no keys (a proxy that strips signing evidence): not-checked, not absent; require says it "could not be checked"', async () => {
    const reg = await sigstoreRegistry({ keys: false, attestations: realAttestations, extra: [{ name: 'leaf', version: '1.0.0' }] })
    s = await setupOn(reg, { dependencies: { sigstore: '1.0.0', leaf: '1.0.0' } })
    const host = new URL(reg.url).host
    const why = `${host} serves no signing keys, so a missing attestation proves nothing ` +
      '(a mirror or proxy that strips signing evidence? `signaturesRegistry` can name a registry that serves it)'

    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(0)
    for (const name of ['leaf', 'tuf-js', 'make-fetch-happen']) {
      expect(evidenceOf(report, name).provenance).toEqual({ status: 'not-checked', reason: why })
    }
    // what it does advertise is still verified
    expect(evidenceOf(report, 'sigstore').provenance.status).toBe('verified')
    expect(report.notes.filter((n: any) => n.check === 'provenance' && /could not be checked/.test(n.message)).map((n: any) => n.message))
      .toEqual([`3 packages could not be checked for provenance: ${why}.`])
    fs.rmSync(s.nodeModules, { recursive: true })

    const refused = await s.siJson(['ci', '--provenance', 'require'])
    expect(refused.code).toBe(1)
    expect(refused.report.violations.map((v: any) => [v.code, v.package]).sort())
      .toEqual([['ESIPROVMISSING', 'leaf@1.0.0'], ['ESIPROVMISSING', 'make-fetch-happen@11.0.1'], ['ESIPROVMISSING', 'tuf-js@1.0.0']])
    for (const v of refused.report.violations) {
      expect(v.message).toBe(`${v.package}: provenance is required but could not be checked: ${why}`)
      expect(v.fix).toMatch(/signaturesRegistry/)
    }
    expect(fs.existsSync(s.nodeModules)).toBe(false)

    // the human summary: the tally and one grouped warning (a fresh cache: a full run, not an up-to-date answer)
    const human = await s.si(['verify', '--cache', freshCache()])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/provenance: .*1 verified.*3 not-checked|provenance: .*3 not-checked.*1 verified/)
    expect(human.stdout).toContain(`warn [provenance] 3 packages could not be checked for provenance: ${why}.`)

    // stripping dist.attestations too: the package that has provenance cannot show it either
    reg.stripEvidence(true)
    const stripped = await s.siJson(['verify', '--provenance-require', 'sigstore', '--cache', freshCache()])
    expect(stripped.code).toBe(1)
    expect(codes(stripped.report)).toEqual(['ESIPROVMISSING'])
    expect(stripped.report.violations[0].message).toBe(`sigstore@1.0.0: provenance is required but could not be checked: ${why}`)
  })
})

describe('identity: attested repository vs declared repository', { timeout: SLOW }, () => {
  // A mismatch cannot be built from real provenance: the in-toto subject pins
  // the tarball bytes, and the declared repository is read from the package.json
  // inside those bytes (the real one matches). So the verified provenance of a
  // fixture package is planted in the project's fact cache, exactly where a
  // previous run would have stored it (computeProvenance reads it first).
  it('mismatch: warning ESIIDENTITY and installs; --identity require refuses', async () => {
    const reg = await startStoreRegistry()
    await reg.publish({ name: 'lookalike', version: '1.0.0', manifest: { repository: { type: 'git', url: 'git+https://github.com/evil/lookalike.git' } } })
    await reg.publish({ name: 'leaf', version: '1.0.0' })
    s = await setupOn(reg, { dependencies: { lookalike: '1.0.0', leaf: '1.0.0' } })
    const integrity = s.lockfile().packages['node_modules/lookalike'].integrity
    const facts = new DiskFacts(storePaths(s.project.cache).facts)
    await facts.set('prov', integrity, {
      name: 'lookalike',
      version: '1.0.0',
      outcome: { status: 'verified', sourceRepository: 'https://github.com/sigstore/sigstore-js', commit: COMMIT, trustedRootSource: 'embedded' },
    })

    const refused = await s.siJson(['ci', '--identity', 'require'])
    expect(refused.code).toBe(1)
    expect(codes(refused.report)).toEqual(['ESIIDENTITY'])
    expect(refused.report.violations[0]).toMatchObject({ package: 'lookalike@1.0.0', severity: 'error' })
    expect(fs.existsSync(s.nodeModules)).toBe(false)

    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(0)
    expect(evidenceOf(report, 'lookalike').identity).toMatchObject({
      status: 'mismatch',
      attested: 'https://github.com/sigstore/sigstore-js',
      declared: 'git+https://github.com/evil/lookalike.git',
    })
    const idWarnings = report.warnings.filter((w: any) => w.code === 'ESIIDENTITY')
    expect(idWarnings).toHaveLength(1)
    expect(idWarnings[0]).toMatchObject({ package: 'lookalike@1.0.0', severity: 'warning' })
    expect(idWarnings[0].message).toMatch(/built from https:\/\/github\.com\/sigstore\/sigstore-js \(provenance\) but declares repository git\+https:\/\/github\.com\/evil\/lookalike\.git/)
    expect(evidenceOf(report, 'leaf').identity.status).toBe('not-checked')
    expect(fs.existsSync(path.join(s.nodeModules, 'lookalike/package.json'))).toBe(true)
  })
})
