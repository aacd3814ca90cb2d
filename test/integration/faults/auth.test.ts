// A registry that requires a token: the credential of the userconfig
// (`//host/:_authToken`, npm's nerf-dart form) goes with every request, as
// npm sends it, and never into the output or the record.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { setup, type Setup } from '../helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

const TOKEN = 'npm_fixtureToken0123456789'

describe('registry credentials', { timeout: 60_000 }, () => {
  it('the token of the userconfig is sent with packument, tarball, keys and advisory requests; without it: ESIFETCH (HTTP 401), exit 4', async () => {
    s = await setup([
      { name: 'leaf', version: '1.0.0' },
      { name: '@acme/mid', version: '1.0.0', manifest: { dependencies: { leaf: '1.0.0' } } },
    ], { dependencies: { '@acme/mid': '1.0.0' } })
    const host = new URL(s.registry.url).host
    const npmrc = fs.readFileSync(s.project.userconfig, 'utf8')
    s.registry.requireToken(TOKEN)

    // no credential: refused by the registry, nothing written
    const denied = await s.siJson(['ci'])
    expect(denied.code).toBe(4)
    expect(denied.report.error.code).toBe('ESIFETCH')
    expect(JSON.stringify(denied.report)).toMatch(/401/)
    expect(fs.existsSync(s.nodeModules)).toBe(false)

    fs.writeFileSync(s.project.userconfig, `${npmrc}//${host}/:_authToken=${TOKEN}\n`)
    s.registry.requests.length = 0
    const ok = await s.siJson(['ci'])
    expect(ok.code, ok.stderr).toBe(0)
    const paths = s.registry.requests.map(r => r.path)
    expect(paths).toContain('/-/npm/v1/keys')
    expect(paths).toContain('/-/npm/v1/security/advisories/bulk')
    expect(paths.some(p => p.endsWith('.tgz'))).toBe(true)
    for (const r of s.registry.requests) expect(r.authorization, `${r.method} ${r.path}`).toBe(`Bearer ${TOKEN}`)
    expect(ok.report.packages.map((p: any) => p.evidence.signature?.status)).toEqual(['verified', 'verified'])
    // the credential is nowhere in what safe-install writes or prints
    const record = fs.readFileSync(path.join(s.nodeModules, '.safe-install', 'record.cdx.json'), 'utf8')
    expect(record).not.toContain(TOKEN)
    expect(ok.stdout + ok.stderr).not.toContain(TOKEN)
  })
})
