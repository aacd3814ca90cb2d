// The signature and provenance checks prove "the registry vouched for exactly
// the bytes we install" only if the digest they check is the digest the bytes
// were checked against. A lockfile integrity may list several digests of one
// algorithm (SRI allows it; ssri accepts data matching ANY of them).
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { integrityOf, makeTarball, startRegistry } from '../../fixtures/registry/index.js'
import { SLOW, codes, REAL_INTEGRITY, REAL_PUBLISHED, realAttestations, realTarball, setupOn, startStoreRegistry, type Setup } from './helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

describe('lockfile integrity with two sha512 digests', { timeout: SLOW }, () => {
  it('"sha512-<signed> sha512-<evil>" with evil bytes served: refused, never installed as signature-verified', async () => {
    const reg = await startRegistry()
    await reg.publish({ name: 'leaf', version: '1.0.0', files: { 'index.js': 'module.exports = "genuine"\n' } })
    s = await setupOn(reg, { dependencies: { leaf: '1.0.0' } })
    const evil = makeTarball({
      'package.json': JSON.stringify({ name: 'leaf', version: '1.0.0' }, null, 2) + '\n',
      'index.js': 'module.exports = "evil"\n',
    })
    // the registry (or a mirror/CDN in front of it) serves other bytes...
    reg.tamperTarball('leaf', '1.0.0', evil)
    // ...and the lockfile gains a second sha512 digest after the genuine one
    const lockPath = path.join(s.project.dir, 'package-lock.json')
    const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'))
    const genuine = lock.packages['node_modules/leaf'].integrity
    lock.packages['node_modules/leaf'].integrity = `${genuine} ${integrityOf(evil)}`
    fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n')

    const { code, report } = await s.siJson(['ci'])
    const installed = path.join(s.nodeModules, 'leaf/index.js')
    const got = fs.existsSync(installed) ? fs.readFileSync(installed, 'utf8') : undefined
    // what actually happened, for the failure message
    const sig = report.packages?.find((p: any) => p.path === 'node_modules/leaf')?.evidence?.signature
    expect({ code, installed: got, signature: sig?.status }, `exit ${code}, node_modules/leaf/index.js = ${JSON.stringify(got)}, signature ${sig?.status} (keyid ${sig?.keyid})`)
      .toEqual({ code: 1, installed: undefined, signature: undefined })
    expect(codes(report).some(c => c === 'ESISIGINVALID' || c === 'ESIINTEGRITY' || c === 'ESINOINTEGRITY')).toBe(true)
  })

  it('the same with the real sigstore@1.0.0: evil bytes must not be installed as "provenance verified"', async () => {
    const reg = await startStoreRegistry({ keys: false })
    await reg.publishTarball(realTarball(), { time: REAL_PUBLISHED })
    await reg.publish({ name: 'make-fetch-happen', version: '11.0.1' })
    await reg.publish({ name: 'tuf-js', version: '1.0.0' })
    reg.setAttestations('sigstore', '1.0.0', realAttestations)
    s = await setupOn(reg, { dependencies: { sigstore: '1.0.0' } })
    const evil = makeTarball({
      'package.json': JSON.stringify({ name: 'sigstore', version: '1.0.0', dependencies: { 'make-fetch-happen': '^11.0.1', 'tuf-js': '^1.0.0' } }, null, 2) + '\n',
      'index.js': 'module.exports = "evil"\n',
    })
    reg.tamperTarball('sigstore', '1.0.0', evil)
    const lockPath = path.join(s.project.dir, 'package-lock.json')
    const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'))
    expect(lock.packages['node_modules/sigstore'].integrity).toBe(REAL_INTEGRITY)
    lock.packages['node_modules/sigstore'].integrity = `${REAL_INTEGRITY} ${integrityOf(evil)}`
    fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n')

    const { code, report } = await s.siJson(['ci'])
    const installed = path.join(s.nodeModules, 'sigstore/index.js')
    const got = fs.existsSync(installed) ? fs.readFileSync(installed, 'utf8') : undefined
    const prov = report.packages?.find((p: any) => p.path === 'node_modules/sigstore')?.evidence?.provenance
    expect({ code, installed: got, provenance: prov?.status }, `exit ${code}, node_modules/sigstore/index.js = ${JSON.stringify(got)}, provenance ${prov?.status} (${prov?.sourceRepository})`)
      .toEqual({ code: 1, installed: undefined, provenance: undefined })
    expect(codes(report).some(c => c === 'ESIPROVINVALID' || c === 'ESIINTEGRITY' || c === 'ESINOINTEGRITY')).toBe(true)
  })
})
