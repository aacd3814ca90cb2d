import { createServer, type Server } from 'node:http'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createSigstoreTargets, embeddedTarget, SIGSTORE_TUF_MIRROR, tufCachePath } from '../../../lib/evidence/tuf.js'
import { loadRegistryKeys, parseNpmKeys, parseTufKeys, RegistryKeyStore, tufKeysTarget, tufKeysTargetsOf } from '../../../lib/evidence/keys.js'
import { evidenceChecks } from '../../../lib/evidence/index.js'
import { isPublicNpmRegistry, matchesNameList, npmDefaultRegistry } from '../../../lib/evidence/util.js'
import { fakeCtx, fakeOptions, PROXY, PUBLIC, testRegistryKey, tmpDir } from './helpers.js'
import { PUBLIC_HOST, PUBLIC_REGISTRY } from '../../helpers/registry-host.js'

describe('registry keys', () => {
  it('parses the npm keys endpoint format', () => {
    const keys = parseNpmKeys({ keys: [
      { keyid: 'SHA256:a', keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: 'AAAA', expires: '2025-01-29T00:00:00.000Z' },
      { keyid: 'SHA256:b', keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: 'BBBB', expires: null },
      { keyid: 3 },
    ] })
    expect(keys).toEqual([
      { keyid: 'SHA256:a', keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: 'AAAA', expires: '2025-01-29T00:00:00.000Z' },
      { keyid: 'SHA256:b', keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: 'BBBB', expires: null },
    ])
    expect(parseNpmKeys(undefined)).toEqual([])
    expect(parseNpmKeys({ keys: 'x' })).toEqual([])
  })

  it('parses the TUF keys.json embedded in @sigstore/tuf', () => {
    const keys = parseTufKeys(JSON.parse(embeddedTarget(`${PUBLIC_HOST}/keys.json`)!))
    expect(keys.length).toBeGreaterThanOrEqual(2)
    expect(keys).toContainEqual(expect.objectContaining({
      keyid: 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA', usage: 'npm:signatures', expires: '2025-01-29T00:00:00.000Z', keytype: 'ecdsa-sha2-nistp256',
    }))
  })

  it('knows the public registry from npm\'s own config definitions', () => {
    expect(npmDefaultRegistry()).toBe(PUBLIC_REGISTRY)
    expect(isPublicNpmRegistry(PUBLIC_REGISTRY.slice(0, -1))).toBe(true)
    expect(isPublicNpmRegistry(`https://${PUBLIC_HOST.toUpperCase()}:443/`)).toBe(true)
    expect(isPublicNpmRegistry(PROXY)).toBe(false)
    expect(tufKeysTarget(PUBLIC)).toBe(`${PUBLIC_HOST}/keys.json`)
  })

  it('the keys targets a run will ask TUF for are known from its options: the public registry\'s, unless signatures are off', () => {
    expect(tufKeysTargetsOf(fakeOptions())).toEqual([`${PUBLIC_HOST}/keys.json`])
    expect(tufKeysTargetsOf(fakeOptions({ signatures: 'off' }))).toEqual([])
    expect(tufKeysTargetsOf(fakeOptions({}, { registry: PROXY }))).toEqual([])
    // evidence read from the public registry for a proxy's packages, or a scope served by it
    expect(tufKeysTargetsOf(fakeOptions({ signaturesRegistry: PUBLIC }, { registry: PROXY }))).toEqual([`${PUBLIC_HOST}/keys.json`])
    expect(tufKeysTargetsOf(fakeOptions({}, { registry: PROXY, scopedRegistries: { '@a': PUBLIC, '@b': PUBLIC } }))).toEqual([`${PUBLIC_HOST}/keys.json`])
  })

  it('public registry: TUF first', async () => {
    const tuf = { target: async (name: string) => name === `${PUBLIC_HOST}/keys.json` ? { text: embeddedTarget(name)!, source: 'tuf' as const } : undefined }
    const set = await loadRegistryKeys(PUBLIC, fakeCtx(), { tuf })
    expect(set.source).toBe('tuf')
    expect(set.keys.length).toBeGreaterThan(0)
  })

  it('public registry: the embedded copy when TUF is unreachable, with a plain note, once per run', async () => {
    const store = new RegistryKeyStore({ tuf: createSigstoreTargets({ cachePath: tmpDir(), offline: true }) })
    const ctx = fakeCtx()
    const [a, b] = await Promise.all([store.get(PUBLIC, ctx), store.get(PUBLIC_REGISTRY.slice(0, -1), ctx)])
    expect(a).toBe(b)
    expect(a.source).toBe('embedded')
    expect(ctx.notes).toHaveLength(1)
    expect(ctx.notes[0]).toMatchObject({ check: 'signatures', level: 'warning' })
    expect(ctx.notes[0].message).toMatch(/offline copy/)
    // with only the offline copy, the registry's own endpoint tells whether it strips signing evidence
    expect(ctx.calls).toEqual([`${PUBLIC}-/npm/v1/keys`])
    expect(a.servedByRegistry).toBe(false)
  })

  it('other registries: the keys endpoint; 404 or empty means no keys', async () => {
    const key = testRegistryKey()
    const tuf = { target: async () => { throw new Error('not for other registries') } }
    const served = await loadRegistryKeys(PROXY, fakeCtx({ fetch: { [`${PROXY}-/npm/v1/keys`]: key.doc } }), { tuf })
    expect(served).toMatchObject({ source: 'keys-endpoint', keys: [{ keyid: key.keyid }] })
    const missing = await loadRegistryKeys(PROXY, fakeCtx(), { tuf })
    expect(missing.keys).toEqual([])
    expect(missing.reason).toMatch(/404/)
    expect((await loadRegistryKeys(PROXY, fakeCtx({ fetch: { [`${PROXY}-/npm/v1/keys`]: { keys: [] } } }), { tuf })).keys).toEqual([])
    expect((await loadRegistryKeys(PROXY, fakeCtx({ fetch: { [`${PROXY}-/npm/v1/keys`]: new Error('ECONNRESET') } }), { tuf })).reason).toMatch(/ECONNRESET/)
  })

  it('memoizes per registry', async () => {
    const store = new RegistryKeyStore({ tuf: { target: async () => undefined } })
    const ctx = fakeCtx()
    await Promise.all([store.get(PROXY, ctx), store.get(PROXY, ctx), store.get('https://other.example.test/', ctx)])
    expect(ctx.calls.sort()).toEqual(['https://other.example.test/-/npm/v1/keys', `${PROXY}-/npm/v1/keys`])
  })
})

describe('Sigstore TUF access never hangs', () => {
  let server: Server | undefined
  afterEach(() => {
    server?.closeAllConnections()
    server?.close()
    server = undefined
  })

  it('the real mirror (unreachable here) falls back to the embedded copy', async () => {
    const started = Date.now()
    const targets = createSigstoreTargets({ cachePath: tmpDir(), timeoutMs: 3_000 })
    const root = await targets.target('trusted_root.json')
    expect(root?.source).toBe('embedded')
    expect(root?.reason).toBeTruthy()
    expect(JSON.parse(root!.text).mediaType).toMatch(/trustedroot/)
    expect(Date.now() - started).toBeLessThan(8_000)
    // the failure is remembered: the next target does not wait again
    const t = Date.now()
    expect((await targets.target(`${PUBLIC_HOST}/keys.json`))?.source).toBe('embedded')
    expect(Date.now() - t).toBeLessThan(500)
  })

  it('a mirror that accepts connections and never answers is cut off by the timeout', async () => {
    server = createServer(() => { /* never answer */ })
    await new Promise<void>(resolve => server!.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const dir = tmpDir()
    const rootPath = path.join(dir, 'root.json')
    const seeds = (await import('@sigstore/tuf/seeds.json', { with: { type: 'json' } })).default as any
    writeFileSync(rootPath, Buffer.from(seeds[SIGSTORE_TUF_MIRROR]['root.json'], 'base64'))
    const started = Date.now()
    const targets = createSigstoreTargets({ cachePath: path.join(dir, 'cache'), mirrorURL: `http://127.0.0.1:${port}`, rootPath, timeoutMs: 700 })
    const keys = await targets.target(`${PUBLIC_HOST}/keys.json`)
    expect(keys?.source).toBe('embedded')
    expect(keys?.reason).toMatch(/timed out|timeout/i)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('offline: no network at all', async () => {
    const root = await createSigstoreTargets({ cachePath: tmpDir(), offline: true }).target('trusted_root.json')
    expect(root).toMatchObject({ source: 'embedded', reason: 'offline mode' })
  })

  it('caches TUF metadata under <npm cache>/_safe-install/tuf', () => {
    expect(tufCachePath('/home/u/.npm')).toBe('/home/u/.npm/_safe-install/tuf')
  })
})

describe('evidenceChecks', () => {
  it('orders the checks and drops what policy turns off', () => {
    expect(evidenceChecks(fakeOptions()).map(c => c.name)).toEqual(['signatures', 'provenance', 'identity', 'trust'])
    expect(evidenceChecks(fakeOptions({ provenance: 'off' })).map(c => c.name)).toEqual(['signatures', 'trust'])
    expect(evidenceChecks(fakeOptions({ signatures: 'off' })).map(c => c.name)).toEqual(['provenance', 'identity', 'trust'])
    expect(evidenceChecks(fakeOptions({ signatures: 'off', provenance: 'off' })).map(c => c.name)).toEqual([])
  })
})

describe('name lists', () => {
  it('matches names, @scope/* and @scope', () => {
    expect(matchesNameList('@a/b', ['@a/*'])).toBe(true)
    expect(matchesNameList('@a/b', ['@a'])).toBe(true)
    expect(matchesNameList('@ab/c', ['@a/*'])).toBe(false)
    expect(matchesNameList('left-pad', ['left-pad'])).toBe(true)
    expect(matchesNameList('left-pad', ['left'])).toBe(false)
  })
})
