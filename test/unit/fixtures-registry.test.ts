// Checks the fixture registry itself: if it drifted from what the npm registry
// serves, every test built on it would prove nothing.
import { createPublicKey, verify } from 'node:crypto'
import { request, Agent } from 'node:https'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { Parser } from 'tar'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { integrityOf, makeTarball, startRegistry, type FixtureRegistry } from '../fixtures/registry/index.js'
import { lock, makeProject } from '../helpers/project.js'
import { snapshotTree, diffTrees } from '../helpers/tree.js'
import { cleanEnv, runCli } from '../helpers/cli.js'

interface Res { status: number, headers: Record<string, any>, body: Buffer }

function get (reg: FixtureRegistry, path: string, opts: { accept?: string, method?: string, body?: Buffer, headers?: Record<string, string> } = {}): Promise<Res> {
  const url = new URL(path.replace(/^\//, ''), reg.url)
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: opts.method ?? 'GET',
      ca: reg.caPem,
      agent: new Agent({ keepAlive: false }),
      headers: { ...(opts.accept ? { accept: opts.accept } : {}), ...opts.headers },
    }, res => {
      const chunks: Buffer[] = []
      res.on('data', c => chunks.push(c))
      res.on('error', reject)
      res.on('aborted', () => reject(new Error('aborted')))
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        const len = Number(res.headers['content-length'])
        // node does not always error on a short body; make truncation visible
        if (!Number.isNaN(len) && body.length !== len) reject(new Error(`short body ${body.length}/${len}`))
        else resolve({ status: res.statusCode!, headers: res.headers, body })
      })
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}
const getJson = async (reg: FixtureRegistry, path: string, accept?: string): Promise<any> => {
  const r = await get(reg, path, { accept })
  expect(r.status, `${path}: ${r.body}`).toBe(200)
  return JSON.parse(r.body.toString('utf8'))
}

const CORGI = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'

function entriesOf (tgz: Buffer): Promise<Array<{ path: string, type: string, linkpath?: string, body: string }>> {
  return new Promise((resolve, reject) => {
    const out: Array<{ path: string, type: string, linkpath?: string, body: string }> = []
    const p = new Parser({
      onReadEntry: e => {
        const chunks: Buffer[] = []
        e.on('data', c => chunks.push(c))
        e.on('end', () => out.push({ path: e.path, type: e.type, linkpath: e.linkpath || undefined, body: Buffer.concat(chunks).toString() }))
      },
    })
    p.on('end', () => resolve(out))
    p.on('error', reject)
    p.end(tgz)
  })
}

function verifyWithServedKey (keys: any[], keyid: string, message: string, sig: string): boolean {
  const k = keys.find(x => x.keyid === keyid)
  if (!k) return false
  const pub = createPublicKey({ key: Buffer.from(k.key, 'base64'), format: 'der', type: 'spki' })
  return verify('sha256', Buffer.from(message), pub, Buffer.from(sig, 'base64'))
}

describe('fixture registry', () => {
  let reg: FixtureRegistry
  beforeAll(async () => { reg = await startRegistry() })
  afterAll(async () => { await reg.stop() })

  it('serves a packument whose integrity matches the tarball bytes', async () => {
    const p = await reg.publish({
      name: 'alpha',
      version: '1.0.0',
      files: { 'index.js': 'module.exports = 1\n', 'bin/cli.js': { content: '#!/usr/bin/env node\n', mode: 0o755 } },
      manifest: { license: 'MIT', repository: { type: 'git', url: 'git+https://example.test/alpha.git' }, bin: { alpha: 'bin/cli.js' } },
    })
    expect(reg.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
    expect(p.tarballUrl).toBe(`${reg.url}alpha/-/alpha-1.0.0.tgz`)
    const doc = await getJson(reg, '/alpha')
    const v = doc.versions['1.0.0']
    expect(v.dist.integrity).toBe(p.integrity)
    expect(v.dist.tarball).toBe(p.tarballUrl)
    expect(v._npmUser.name).toBeTruthy()
    expect(doc.time['1.0.0']).toBe(p.time)
    expect(Date.parse(p.time)).toBeLessThan(Date.now() - 29 * 24 * 3600_000)
    expect(doc.repository.url).toContain('alpha.git')
    expect(doc['dist-tags'].latest).toBe('1.0.0')

    const tgz = await get(reg, new URL(p.tarballUrl).pathname)
    expect(tgz.status).toBe(200)
    expect(integrityOf(tgz.body)).toBe(p.integrity)
    expect(tgz.body.equals(p.tarball)).toBe(true)
    const entries = await entriesOf(tgz.body)
    expect(entries.map(e => e.path)).toEqual(['package/package.json', 'package/bin/cli.js', 'package/index.js'])
    expect(JSON.parse(entries[0]!.body)).toMatchObject({ name: 'alpha', version: '1.0.0', license: 'MIT' })
  })

  it('builds deterministic tarballs and keeps hostile entries verbatim', async () => {
    expect(integrityOf(makeTarball({ a: 'x' }))).toBe(integrityOf(makeTarball({ a: 'x' })))
    const p = await reg.publish({
      name: 'hostile',
      version: '1.0.0',
      rawEntries: [
        { path: 'package/../evil.js', type: 'file', content: 'evil' },
        { path: '/etc/x', type: 'file', content: 'abs' },
        { path: 'package/link', type: 'symlink', linkpath: '../../outside' },
        { path: 'package/dir', type: 'directory' },
        { path: 'package/hard', type: 'link', linkpath: '/etc/passwd' },
        { path: `package/${'d/'.repeat(80)}deep.js`, type: 'file', content: 'long' },
      ],
    })
    const entries = await entriesOf(p.tarball)
    expect(entries.map(e => e.path)).toEqual([
      'package/package.json', 'package/../evil.js', '/etc/x', 'package/link', 'package/dir', 'package/hard', `package/${'d/'.repeat(80)}deep.js`,
    ])
    expect(entries[3]).toMatchObject({ type: 'SymbolicLink', linkpath: '../../outside' })
    expect(entries[5]).toMatchObject({ type: 'Link', linkpath: '/etc/passwd' })
  })

  it('serves scoped packages under both encodings', async () => {
    const p = await reg.publish({ name: '@scope/pkg', version: '2.0.0' })
    expect(p.tarballUrl).toBe(`${reg.url}@scope/pkg/-/pkg-2.0.0.tgz`)
    expect((await getJson(reg, '/@scope%2fpkg')).name).toBe('@scope/pkg')
    expect((await getJson(reg, '/@scope%2Fpkg')).name).toBe('@scope/pkg')
    expect((await getJson(reg, '/@scope/pkg')).name).toBe('@scope/pkg')
    expect(integrityOf((await get(reg, '/@scope%2fpkg/-/pkg-2.0.0.tgz')).body)).toBe(p.integrity)
    const missing = await get(reg, '/does-not-exist')
    expect(missing.status).toBe(404)
    expect(JSON.parse(missing.body.toString())).toEqual({ error: 'not found' })
  })

  it('serves the abbreviated packument to corgi requests only', async () => {
    await reg.publish({
      name: 'beta',
      version: '1.0.0',
      manifest: { dependencies: { alpha: '^1.0.0' }, scripts: { postinstall: 'node x.js', test: 'x' }, description: 'b', engines: { node: '>=18' } },
    })
    const corgiRes = await get(reg, '/beta', { accept: CORGI })
    expect(corgiRes.headers['content-type']).toContain('application/vnd.npm.install-v1+json')
    const corgi = JSON.parse(corgiRes.body.toString())
    expect(Object.keys(corgi).sort()).toEqual(['dist-tags', 'modified', 'name', 'versions'])
    const cv = corgi.versions['1.0.0']
    expect(cv).toMatchObject({ name: 'beta', version: '1.0.0', dependencies: { alpha: '^1.0.0' }, hasInstallScript: true, engines: { node: '>=18' } })
    expect(cv.dist.integrity).toMatch(/^sha512-/)
    expect(cv.scripts).toBeUndefined()
    expect(cv._npmUser).toBeUndefined()

    const full = await getJson(reg, '/beta')
    expect(full.time).toBeDefined()
    expect(full.versions['1.0.0'].scripts.postinstall).toBe('node x.js')
    expect(full.versions['1.0.0']._npmUser).toBeDefined()
  })

  it('signs in npm\'s format and serves the keys', async () => {
    const modes = ['valid', 'forged', 'missing', 'expired-key', 'unknown-key'] as const
    for (const mode of modes) await reg.publish({ name: `sig-${mode}`, version: '1.0.0', signature: mode })
    const { keys } = await getJson(reg, '/-/npm/v1/keys')
    expect(keys[0]).toEqual({ expires: null, keyid: reg.keyId, keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: reg.publicKeyBase64 })
    expect(reg.keyId).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/)

    const check = async (name: string) => {
      const doc = await getJson(reg, `/${name}`)
      const v = doc.versions['1.0.0']
      return { doc, v, sigs: v.dist.signatures as Array<{ keyid: string, sig: string }> | undefined, msg: `${name}@1.0.0:${v.dist.integrity}` }
    }
    const valid = await check('sig-valid')
    expect(valid.sigs![0]!.keyid).toBe(reg.keyId)
    expect(verifyWithServedKey(keys, reg.keyId, valid.msg, valid.sigs![0]!.sig)).toBe(true)

    const forged = await check('sig-forged')
    expect(forged.sigs![0]!.keyid).toBe(reg.keyId)
    expect(verifyWithServedKey(keys, reg.keyId, forged.msg, forged.sigs![0]!.sig)).toBe(false)

    expect((await check('sig-missing')).sigs).toBeUndefined()

    const expired = await check('sig-expired-key')
    const expiredKey = keys.find((k: any) => k.keyid === expired.sigs![0]!.keyid)
    expect(expiredKey.expires).not.toBeNull()
    expect(Date.parse(expiredKey.expires)).toBeLessThan(Date.parse(expired.doc.time['1.0.0']))
    expect(verifyWithServedKey(keys, expiredKey.keyid, expired.msg, expired.sigs![0]!.sig)).toBe(true)

    const unknown = await check('sig-unknown-key')
    expect(keys.some((k: any) => k.keyid === unknown.sigs![0]!.keyid)).toBe(false)

    reg.setSignature('sig-valid', '1.0.0', 'forged')
    const now = await check('sig-valid')
    expect(verifyWithServedKey(keys, reg.keyId, now.msg, now.sigs![0]!.sig)).toBe(false)
    reg.setSignature('sig-valid', '1.0.0', 'valid')
  })

  it('agrees with pacote\'s own signature verification (npm\'s code path)', async () => {
    const { default: pacote } = await import('pacote')
    for (const mode of ['valid', 'forged', 'expired-key', 'unknown-key'] as const) {
      await reg.publish({ name: `pac-${mode}`, version: '1.0.0', signature: mode })
    }
    const { keys } = await getJson(reg, '/-/npm/v1/keys')
    const u = new URL(reg.url)
    const cache = mkdtempSync(join(tmpdir(), 'si-pacote-'))
    const opts: any = {
      registry: reg.url,
      ca: reg.caPem,
      cache,
      verifySignatures: true,
      [`//${u.host}${u.pathname}:_keys`]: keys.map((k: any) => ({ ...k, pemkey: `-----BEGIN PUBLIC KEY-----\n${k.key}\n-----END PUBLIC KEY-----` })),
    }
    try {
      const m = await pacote.manifest('pac-valid@1.0.0', opts)
      expect((m as any)._signatures[0].keyid).toBe(reg.keyId)
      await expect(pacote.manifest('pac-forged@1.0.0', opts)).rejects.toMatchObject({ code: 'EINTEGRITYSIGNATURE' })
      await expect(pacote.manifest('pac-expired-key@1.0.0', opts)).rejects.toMatchObject({ code: 'EEXPIREDSIGNATUREKEY' })
      await expect(pacote.manifest('pac-unknown-key@1.0.0', opts)).rejects.toMatchObject({ code: 'EMISSINGSIGNATUREKEY' })
      // and pacote's tarball fetch accepts the bytes under the packument integrity
      const tgz = await pacote.tarball('pac-valid@1.0.0', { ...opts, integrity: m._integrity })
      expect(integrityOf(tgz)).toBe(m._integrity)
    } finally {
      rmSync(cache, { recursive: true, force: true })
    }
  })

  it('serves attestations and strips evidence like a mirror', async () => {
    await reg.publish({ name: 'prov', version: '1.0.0' })
    const body = { attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle: { x: 1 } }] }
    reg.setAttestations('prov', '1.0.0', body)
    const v = (await getJson(reg, '/prov')).versions['1.0.0']
    expect(v.dist.attestations.provenance.predicateType).toBe('https://slsa.dev/provenance/v1')
    expect(await getJson(reg, new URL(v.dist.attestations.url).pathname)).toEqual(body)

    reg.stripEvidence(true)
    const stripped = (await getJson(reg, '/prov')).versions['1.0.0']
    expect(stripped.dist.signatures).toBeUndefined()
    expect(stripped.dist.attestations).toBeUndefined()
    expect((await get(reg, '/-/npm/v1/keys')).status).toBe(404)
    expect((await get(reg, new URL(v.dist.attestations.url).pathname)).status).toBe(404)
    reg.stripEvidence(false)

    reg.setKeysServed(false)
    expect((await get(reg, '/-/npm/v1/keys')).status).toBe(404)
    reg.setKeysServed(true)
    expect((await get(reg, '/-/npm/v1/keys')).status).toBe(200)

    reg.setAttestations('prov', '1.0.0', undefined)
    expect((await getJson(reg, '/prov')).versions['1.0.0'].dist.attestations).toBeUndefined()
  })

  it('tampers and republishes', async () => {
    const p = await reg.publish({ name: 'gamma', version: '1.0.0', files: { 'a.js': 'a' } })
    reg.tamperTarball('gamma', '1.0.0')
    const served = (await get(reg, '/gamma/-/gamma-1.0.0.tgz')).body
    expect(integrityOf(served)).not.toBe(p.integrity)
    expect((await getJson(reg, '/gamma')).versions['1.0.0'].dist.integrity).toBe(p.integrity)
    reg.tamperTarball('gamma', '1.0.0', Buffer.from('garbage'))
    expect((await get(reg, '/gamma/-/gamma-1.0.0.tgz')).body.toString()).toBe('garbage')

    const r = await reg.republish('gamma', '1.0.0', { 'a.js': 'b' })
    expect(r.integrity).not.toBe(p.integrity)
    const v = (await getJson(reg, '/gamma')).versions['1.0.0']
    expect(v.dist.integrity).toBe(r.integrity)
    expect(integrityOf((await get(reg, '/gamma/-/gamma-1.0.0.tgz')).body)).toBe(r.integrity)
    const { keys } = await getJson(reg, '/-/npm/v1/keys')
    expect(verifyWithServedKey(keys, reg.keyId, `gamma@1.0.0:${r.integrity}`, v.dist.signatures[0].sig)).toBe(true)
  })

  it('answers bulk advisories for the asked versions only', async () => {
    const adv = { id: 1, url: 'https://example.test/a/1', title: 'bad', severity: 'high', vulnerable_versions: '<1.2.0', cwe: ['CWE-79'] }
    const adv2 = { id: 2, url: 'https://example.test/a/2', title: 'worse', severity: 'critical', vulnerable_versions: '>=2.0.0' }
    reg.setAdvisories({ alpha: [adv, adv2], beta: [adv2] })
    const post = async (body: unknown, gzip = false) => {
      const raw = Buffer.from(JSON.stringify(body))
      const r = await get(reg, '/-/npm/v1/security/advisories/bulk', {
        method: 'POST',
        body: gzip ? gzipSync(raw) : raw,
        headers: { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
      })
      expect(r.status).toBe(200)
      return JSON.parse(r.body.toString())
    }
    expect(await post({ alpha: ['1.0.0'], beta: ['1.0.0'], zeta: ['1.0.0'] })).toEqual({ alpha: [adv] })
    expect(await post({ alpha: ['1.0.0', '2.1.0'] }, true)).toEqual({ alpha: [adv, adv2] })
    expect(reg.requests.at(-1)).toMatchObject({ method: 'POST', path: '/-/npm/v1/security/advisories/bulk', body: '{"alpha":["1.0.0","2.1.0"]}' })
  })

  it('injects transient faults', async () => {
    await reg.publish({ name: 'flaky', version: '1.0.0', files: { 'big.bin': Buffer.alloc(64 * 1024, 7) } })
    reg.failNext(/flaky-1\.0\.0\.tgz$/, 2, '500')
    expect((await get(reg, '/flaky/-/flaky-1.0.0.tgz')).status).toBe(500)
    expect((await get(reg, '/flaky/-/flaky-1.0.0.tgz')).status).toBe(500)
    expect((await get(reg, '/flaky/-/flaky-1.0.0.tgz')).status).toBe(200)

    reg.failNext(/^\/flaky$/, 1, 'reset')
    await expect(get(reg, '/flaky')).rejects.toThrow()
    expect((await get(reg, '/flaky')).status).toBe(200)

    reg.failNext(/flaky-1\.0\.0\.tgz$/, 1, 'truncate')
    await expect(get(reg, '/flaky/-/flaky-1.0.0.tgz')).rejects.toThrow()
    expect((await get(reg, '/flaky/-/flaky-1.0.0.tgz')).status).toBe(200)

    // gunzip proves the truncated bytes were really a prefix of the tarball
    expect(gunzipSync((await get(reg, '/flaky/-/flaky-1.0.0.tgz')).body).length).toBeGreaterThan(64 * 1024)
    expect(reg.requests.filter(r => r.path === '/flaky/-/flaky-1.0.0.tgz').length).toBe(6)
  })

  it('lets real npm write a lockfile against it', async () => {
    // self-contained (no packages from other tests) so `-t` can run it alone
    await reg.publish({ name: '@npmfx/c', version: '2.0.0' })
    await reg.publish({ name: 'dep-b', version: '1.0.0' })
    const b11 = await reg.publish({ name: 'dep-b', version: '1.1.0', files: { 'index.js': 'b' } })
    await reg.publish({ name: 'dep-b', version: '2.0.0' })
    const a = await reg.publish({ name: 'dep-a', version: '1.0.0', manifest: { dependencies: { 'dep-b': '^1.0.0', '@npmfx/c': '^2.0.0' } } })
    const proj = makeProject({ registry: reg, dependencies: { 'dep-a': '^1.0.0' }, devDependencies: { 'dep-b': '2.0.0' } })
    try {
      const before = reg.requests.length
      const lockfile = await lock(proj.dir, proj.userconfig, proj.cache)
      const pk = lockfile.packages
      expect(pk['node_modules/dep-a']).toMatchObject({ version: '1.0.0', integrity: a.integrity, resolved: a.tarballUrl })
      expect(pk['node_modules/dep-a/node_modules/dep-b']).toMatchObject({ version: '1.1.0', integrity: b11.integrity })
      expect(pk['node_modules/dep-b']).toMatchObject({ version: '2.0.0', dev: true })
      expect(pk['node_modules/@npmfx/c'].resolved).toBe(`${reg.url}@npmfx/c/-/c-2.0.0.tgz`)
      const seen = reg.requests.slice(before)
      // npm 11 asks for full packuments here (Accept: application/json), not corgis
      expect(seen.some(r => r.path === '/dep-a')).toBe(true)
      expect(seen.some(r => r.path === '/@npmfx%2fc')).toBe(true)

      const omit = makeProject({ registry: reg, dependencies: { 'dep-a': '1.0.0' }, omitLockfileRegistryResolved: true })
      const lf2 = await lock(omit.dir, omit.userconfig, omit.cache)
      expect(lf2.packages['node_modules/dep-a'].resolved).toBeUndefined()
      expect(lf2.packages['node_modules/dep-a'].integrity).toBe(a.integrity)
      rmSync(omit.root, { recursive: true, force: true })
    } finally {
      rmSync(proj.root, { recursive: true, force: true })
    }
  })
})

describe('test helpers', () => {
  it('snapshots a tree byte for byte', () => {
    const { root } = makeProject({ registry: { url: 'https://127.0.0.1:1/', caFile: '/dev/null' } })
    try {
      const d = join(root, 'tree')
      mkdirSync(join(d, 'sub'), { recursive: true })
      writeFileSync(join(d, 'sub', 'f'), 'x')
      symlinkSync('sub/f', join(d, 'l'))
      const a = snapshotTree(d)
      expect([...a.keys()]).toEqual(['l', 'sub', 'sub/f'])
      expect(a.get('l')).toBe('symlink sub/f')
      expect(diffTrees(a, snapshotTree(d))).toEqual([])
      chmodSync(join(d, 'sub', 'f'), 0o755)
      writeFileSync(join(d, 'new'), '')
      expect(diffTrees(a, snapshotTree(d))).toEqual(['+ new', '~ sub/f'])
      expect(snapshotTree(join(root, 'absent')).size).toBe(0)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('runs the CLI without throwing, built or not', async () => {
    const r = await runCli(['--version'], { cwd: process.cwd(), timeoutMs: 30_000 })
    expect(typeof r.code).toBe('number')
  })

  it('gives the CLI a clean environment', () => {
    process.env.npm_config_registry_probe = 'x'
    try {
      const env = cleanEnv({ FOO: 'bar' })
      expect(Object.keys(env).some(k => /^npm_config_/i.test(k))).toBe(false)
      expect(env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined()
      expect(env.FOO).toBe('bar')
    } finally {
      delete process.env.npm_config_registry_probe
    }
  })
})
