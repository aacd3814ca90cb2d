// Registry signatures (SCVS 4.12) through the real CLI: verified against the
// LOCKFILE integrity with the fixture registry's own keys (/-/npm/v1/keys),
// before anything is written to node_modules.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startRegistry, verifyPackageSignature, type FixtureRegistry, type PublishSpec } from '../../fixtures/registry/index.js'
import { setupOn as setupOnRegistry } from '../helpers.js'
import { SLOW, codes, evidenceOf, setupOn, type Setup } from './helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

async function populated (packages: PublishSpec[], opts: { keys?: boolean } = {}): Promise<FixtureRegistry> {
  const r = await startRegistry(opts)
  for (const p of packages) await r.publish(p)
  return r
}

describe('registry signatures: verified against the lockfile', { timeout: SLOW }, () => {
  it('valid signatures: verified with the registry key, exit 0', async () => {
    const reg = await populated([
      { name: 'leaf', version: '1.0.0' },
      { name: '@acme/tool', version: '2.0.0', manifest: { dependencies: { leaf: '^1.0.0' } } },
    ])
    // an npm: alias is signed under the real name (leaf@1.0.0), not the folder name
    s = await setupOn(reg, { dependencies: { '@acme/tool': '2.0.0', 'leaf-alias': 'npm:leaf@1.0.0' } })
    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(0)
    expect(report.ok).toBe(true)
    expect(evidenceOf(report, 'leaf-alias').signature).toMatchObject({ status: 'verified', keyid: reg.keyId })
    const lock = s.lockfile()
    // keys fetched once per run from the registry's own endpoint
    expect(reg.requests.filter(r => r.path === '/-/npm/v1/keys')).toHaveLength(1)
    for (const name of ['leaf', '@acme/tool']) {
      const sig = evidenceOf(report, name).signature
      expect(sig).toMatchObject({ status: 'verified', keyid: reg.keyId, keySource: 'keys-endpoint' })
      // the fixture's oracle agrees: the registry signed exactly the lockfile's integrity
      const integrity = lock.packages[`node_modules/${name}`].integrity
      const version = name === 'leaf' ? '1.0.0' : '2.0.0'
      expect(verifyPackageSignature(reg.publicKeyBase64, name, version, integrity, await fetchSignature(reg, name, version))).toBe(true)
    }
    expect(fs.existsSync(`${s.nodeModules}/leaf/package.json`)).toBe(true)
    expect(fs.existsSync(`${s.nodeModules}/@acme/tool/package.json`)).toBe(true)
  })

  it('a forged signature (right key, other bytes) and a signature by a key expired before publish: ESISIGINVALID each, exit 1, node_modules never created', async () => {
    const reg = await populated([
      { name: 'leaf', version: '1.0.0' },
      { name: 'forged', version: '1.0.0', signature: 'forged' },
      { name: 'stale', version: '1.0.0', signature: 'expired-key' },
    ])
    s = await setupOn(reg, { dependencies: { leaf: '1.0.0', forged: '1.0.0', stale: '1.0.0' } })
    const { code, report, stderr } = await s.siJson(['ci'])
    expect(code).toBe(1)
    expect(report.ok).toBe(false)
    expect(codes(report)).toEqual(['ESISIGINVALID', 'ESISIGINVALID'])
    const byPkg = Object.fromEntries(report.violations.map((v: any) => [v.package, v]))
    expect(Object.keys(byPkg).sort()).toEqual(['forged@1.0.0', 'stale@1.0.0'])
    expect(byPkg['forged@1.0.0'].path).toBe('node_modules/forged')
    // checked against the lockfile's integrity, which the message names
    expect(byPkg['forged@1.0.0'].message).toContain(s.lockfile().packages['node_modules/forged'].integrity)
    expect(byPkg['stale@1.0.0'].message).toMatch(/signed only by a key that had expired when the version was published/)
    expect(stderr).not.toMatch(/^\s+at /m)
    expect(fs.existsSync(s.nodeModules)).toBe(false)
  })

  it('`install <forged>`: refused before package.json, the lockfile or node_modules are written', async () => {
    const reg = await populated([
      { name: 'leaf', version: '1.0.0' },
      { name: 'forged', version: '1.0.0', signature: 'forged' },
    ])
    s = await setupOn(reg, { dependencies: { leaf: '1.0.0' } })
    const pj = path.join(s.project.dir, 'package.json')
    const lj = path.join(s.project.dir, 'package-lock.json')
    const before = [fs.readFileSync(pj, 'utf8'), fs.readFileSync(lj, 'utf8')]
    const { code, report } = await s.siJson(['install', 'forged@1.0.0'])
    expect(code).toBe(1)
    expect(codes(report)).toEqual(['ESISIGINVALID'])
    expect(report.violations[0].package).toBe('forged@1.0.0')
    expect([fs.readFileSync(pj, 'utf8'), fs.readFileSync(lj, 'utf8')]).toEqual(before)
    expect(fs.existsSync(s.nodeModules)).toBe(false)
  })

  it('missing signature (or one only by a key the registry does not list) while keys are served: ESISIGMISSING; --signatures off installs', async () => {
    const reg = await populated([
      { name: 'leaf', version: '1.0.0' },
      { name: 'unsigned', version: '1.0.0', signature: 'missing' },
      { name: 'stranger', version: '1.0.0', signature: 'unknown-key' },
    ])
    s = await setupOn(reg, { dependencies: { leaf: '1.0.0', unsigned: '1.0.0', stranger: '1.0.0' } })
    const refused = await s.siJson(['ci'])
    expect(refused.code).toBe(1)
    expect(codes(refused.report)).toEqual(['ESISIGMISSING', 'ESISIGMISSING'])
    const byPkg = Object.fromEntries(refused.report.violations.map((v: any) => [v.package, v]))
    expect(Object.keys(byPkg).sort()).toEqual(['stranger@1.0.0', 'unsigned@1.0.0'])
    expect(byPkg['stranger@1.0.0'].message).toMatch(/unknown key\(s\) SHA256:/)
    expect(fs.existsSync(s.nodeModules)).toBe(false)

    reg.requests.length = 0
    const off = await s.siJson(['ci', '--signatures', 'off'])
    expect(off.code).toBe(0)
    expect(evidenceOf(off.report, 'unsigned').signature).toBeUndefined()
    expect(reg.requests.filter(r => r.path === '/-/npm/v1/keys')).toEqual([])
    expect(fs.existsSync(`${s.nodeModules}/unsigned/package.json`)).toBe(true)
    expect(fs.existsSync(`${s.nodeModules}/stranger/package.json`)).toBe(true)
  })
})

describe('registry signatures: a registry without keys', { timeout: SLOW }, () => {
  it('startRegistry({keys:false}), unsigned packages: installs, not-checked, one warning saying how many; --signatures require: ESISIGUNCHECKED', async () => {
    const reg = await populated([
      { name: 'leaf', version: '1.0.0', signature: 'missing' },
      { name: 'other', version: '1.0.0', signature: 'missing' },
    ], { keys: false })
    s = await setupOn(reg, { dependencies: { leaf: '1.0.0', other: '1.0.0' } })

    const required = await s.siJson(['ci', '--signatures', 'require'])
    expect(required.code).toBe(1)
    expect(codes(required.report).sort()).toEqual(['ESISIGUNCHECKED', 'ESISIGUNCHECKED'])
    expect(required.report.violations.map((v: any) => v.package).sort()).toEqual(['leaf@1.0.0', 'other@1.0.0'])
    expect(fs.existsSync(s.nodeModules)).toBe(false)

    const json = await s.siJson(['verify'])
    expect(json.code).toBe(0)
    for (const name of ['leaf', 'other']) {
      expect(evidenceOf(json.report, name).signature).toMatchObject({ status: 'not-checked' })
      expect(evidenceOf(json.report, name).signature.reason).toMatch(/publishes no signing keys/)
    }
    const sigNotes = json.report.notes.filter((n: any) => n.check === 'signatures')
    expect(sigNotes).toHaveLength(1)
    expect(sigNotes[0].level).toBe('warning')
    expect(sigNotes[0].message).toMatch(/^2 packages from 127\.0\.0\.1:\d+ could not be checked for registry signatures: the registry publishes no signing keys/)

    const human = await s.si(['ci'])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/signatures: 2 not-checked/)
    expect(human.stdout).toMatch(/warn \[signatures\] 2 packages from 127\.0\.0\.1:\d+ could not be checked for registry signatures/)
    expect(fs.existsSync(`${s.nodeModules}/leaf/package.json`)).toBe(true)
  })

  it('setKeysServed(false) after locking: --signatures require refuses with ESISIGUNCHECKED (keys are read per run, not remembered)', async () => {
    const reg = await populated([{ name: 'leaf', version: '1.0.0', signature: 'missing' }])
    s = await setupOn(reg, { dependencies: { leaf: '1.0.0' } })
    const served = await s.siJson(['verify'])
    expect(codes(served.report)).toEqual(['ESISIGMISSING'])
    reg.setKeysServed(false)
    const required = await s.siJson(['ci', '--signatures', 'require'])
    expect(required.code).toBe(1)
    expect(codes(required.report)).toEqual(['ESISIGUNCHECKED'])
    expect(required.report.violations[0].message).toMatch(/publishes no signing keys/)
  })

  it('the keys are asked on every online run and kept for --offline: --offline --signatures require verifies with them, asking nothing', async () => {
    const reg = await populated([{ name: 'leaf', version: '1.0.0' }])
    // no proxy in the environment: the keys are asked with one plain request
    // (behind a proxy they go through npm-registry-fetch and its HTTP cache)
    s = await setupOnRegistry(reg, { dependencies: { leaf: '1.0.0' } })
    expect((await s.siJson(['ci'])).code).toBe(0)
    expect((await s.siJson(['ci'])).code).toBe(0)
    expect(reg.requests.filter(r => r.path === '/-/npm/v1/keys')).toHaveLength(2)
    fs.rmSync(s.nodeModules, { recursive: true })
    const asked = reg.requests.length
    const offline = await s.siJson(['ci', '--offline', '--signatures', 'require'])
    expect(offline.code, offline.stderr).toBe(0)
    expect(evidenceOf(offline.report, 'leaf').signature).toMatchObject({ status: 'verified', keyid: reg.keyId, keySource: 'keys-endpoint' })
    expect(reg.requests.slice(asked).map(r => r.path)).toEqual([])
  })
})

describe('registry signatures: a stripping mirror with --signatures-registry', { timeout: SLOW }, () => {
  const specs: PublishSpec[] = [
    { name: 'leaf', version: '1.0.0', files: { 'index.js': 'module.exports = 1\n' } },
    { name: '@acme/tool', version: '1.2.3', manifest: { dependencies: { leaf: '^1.0.0' } }, files: { 'cli.js': 'x\n' } },
  ]

  it('mirror A strips evidence, B is full: verified against the lockfile integrity with B\'s keys; a forged signature on B is refused', async () => {
    const a = await startRegistry()
    const b = await startRegistry()
    for (const p of specs) {
      const pa = await a.publish(p)
      const pb = await b.publish(p)
      // same files, same bytes: the fixture's tarballs are deterministic
      expect(pa.integrity).toBe(pb.integrity)
      expect(pa.tarball.equals(pb.tarball)).toBe(true)
    }
    a.stripEvidence(true)
    s = await setupOn(a, { dependencies: { '@acme/tool': '1.2.3' } }, [b])
    const lock = s.lockfile()
    expect(lock.packages['node_modules/leaf'].resolved.startsWith(a.url)).toBe(true)

    // A alone: nothing to check signatures with (not refused under the default `verify`)
    const alone = await s.siJson(['verify'])
    expect(alone.code).toBe(0)
    expect(evidenceOf(alone.report, 'leaf').signature.status).toBe('not-checked')
    expect(alone.report.notes.some((n: any) => n.check === 'signatures' && /2 packages from 127\.0\.0\.1:\d+ could not be checked/.test(n.message))).toBe(true)

    // an http:// evidence registry is refused before any request (SCVS 4.15)
    a.requests.length = 0
    const http = await s.siJson(['ci', '--signatures-registry', b.url.replace('https:', 'http:')])
    expect(http.code).toBe(3)
    expect(codes(http.report)).toEqual(['ESIHTTPREGISTRY'])
    expect(a.requests).toEqual([])

    // B forges: refused, even though A (where the bytes come from) is fine
    b.setSignature('leaf', '1.0.0', 'forged')
    a.requests.length = 0
    b.requests.length = 0
    const forged = await s.siJson(['ci', '--signatures-registry', b.url])
    expect(forged.code).toBe(1)
    expect(codes(forged.report)).toEqual(['ESISIGINVALID'])
    expect(forged.report.violations[0].package).toBe('leaf@1.0.0')
    expect(fs.existsSync(s.nodeModules)).toBe(false)
    // the evidence came from B; the bytes from A
    expect(b.requests.some(r => r.path === '/-/npm/v1/keys')).toBe(true)
    expect(a.requests.some(r => r.path === '/-/npm/v1/keys')).toBe(false)
    expect(b.requests.some(r => r.path.endsWith('.tgz'))).toBe(false)

    // B genuine: verified with B's key, against the lockfile integrity
    b.setSignature('leaf', '1.0.0', 'valid')
    const ok = await s.siJson(['ci', '--signatures-registry', b.url])
    expect(ok.code).toBe(0)
    for (const name of ['leaf', '@acme/tool']) {
      expect(evidenceOf(ok.report, name).signature).toMatchObject({ status: 'verified', keyid: b.keyId })
    }
    const leafDoc = lock.packages['node_modules/leaf']
    // B's signature is over the same integrity the lockfile holds (the fixture's oracle)
    const signed = await fetchSignature(b, 'leaf', '1.0.0')
    expect(verifyPackageSignature(b.publicKeyBase64, 'leaf', '1.0.0', leafDoc.integrity, signed)).toBe(true)
    expect(fs.existsSync(`${s.nodeModules}/leaf/package.json`)).toBe(true)
  })
})

/** dist.signatures[0].sig of a version, read from the registry as a client would. */
async function fetchSignature (reg: FixtureRegistry, name: string, version: string): Promise<string> {
  const https = await import('node:https')
  const doc: any = await new Promise((resolve, reject) => {
    https.get(`${reg.url}${name.replace('/', '%2f')}`, { ca: reg.caPem }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', d => { body += d }).on('end', () => resolve(JSON.parse(body)))
    }).on('error', reject)
  })
  // don't let the test's own request count as the CLI's
  reg.requests.pop()
  return doc.versions[version].dist.signatures[0].sig
}
