import { describe, expect, it } from 'vitest'

import { DEFAULT_REGISTRY } from '../../../lib/config/load.js'
import {
  baseName, checkLockfileUrls, checkTarballUrl, conventionalTarballUrl, expectedTarballPaths, registryFor, replaceHost,
  type RegistryConfig,
} from '../../../lib/policy/lockfile-urls.js'
import { makeEntry } from './helpers.js'

const MIRROR = 'https://mirror.example.com/'
const PREFIXED = 'https://mirror.example/npm/'
const CORP = 'https://npm.corp.example.org/'
const DEFAULT_HOST = new URL(DEFAULT_REGISTRY).host

function cfg (over: Partial<RegistryConfig> = {}): RegistryConfig {
  return {
    registry: DEFAULT_REGISTRY,
    scopedRegistries: {},
    replaceRegistryHost: 'npmjs',
    defaultRegistry: DEFAULT_REGISTRY,
    ...over,
  }
}

const onDefault = (p: string) => `${DEFAULT_REGISTRY}${p}`
const lodash = { name: 'lodash', version: '4.17.21', location: 'node_modules/lodash' }
const scoped = { name: '@corp/util', version: '2.0.0', location: 'node_modules/@corp/util' }

describe('sanity of the fixture', () => {
  it('DEFAULT_REGISTRY is an https URL with a trailing slash', () => {
    expect(DEFAULT_REGISTRY).toMatch(/^https:\/\/[^/]+\/$/)
  })
})

describe('registryFor', () => {
  const c = cfg({ registry: MIRROR, scopedRegistries: { '@corp': CORP } })
  it('unscoped names use the default registry', () => {
    expect(registryFor('lodash', c)).toBe(MIRROR)
  })
  it('a configured scope uses its own registry', () => {
    expect(registryFor('@corp/util', c)).toBe(CORP)
  })
  it('an unconfigured scope falls back to the default registry', () => {
    expect(registryFor('@other/util', c)).toBe(MIRROR)
  })
  it('scope matching is by the exact scope, not a prefix', () => {
    expect(registryFor('@corporate/util', c)).toBe(MIRROR)
  })
})

describe('baseName / conventionalTarballUrl / expectedTarballPaths', () => {
  it('baseName drops the scope', () => {
    expect(baseName('lodash')).toBe('lodash')
    expect(baseName('@corp/util')).toBe('util')
  })
  it('conventional URL for unscoped and scoped packages', () => {
    expect(conventionalTarballUrl('lodash', '4.17.21', MIRROR)).toBe('https://mirror.example.com/lodash/-/lodash-4.17.21.tgz')
    expect(conventionalTarballUrl('@corp/util', '2.0.0', CORP)).toBe('https://npm.corp.example.org/@corp/util/-/util-2.0.0.tgz')
  })
  it('conventional URL keeps a registry path prefix', () => {
    expect(conventionalTarballUrl('lodash', '1.0.0', PREFIXED)).toBe('https://mirror.example/npm/lodash/-/lodash-1.0.0.tgz')
  })
  it('conventional URL keeps prerelease/build versions verbatim', () => {
    expect(conventionalTarballUrl('a', '1.0.0-beta.1', MIRROR)).toBe('https://mirror.example.com/a/-/a-1.0.0-beta.1.tgz')
  })
  it('expected paths: one for unscoped, three spellings for scoped', () => {
    expect(expectedTarballPaths('lodash', '4.17.21')).toEqual(['lodash/-/lodash-4.17.21.tgz'])
    expect(expectedTarballPaths('@corp/util', '2.0.0')).toEqual([
      '@corp/util/-/util-2.0.0.tgz', '@corp%2futil/-/util-2.0.0.tgz', '@corp%2Futil/-/util-2.0.0.tgz',
    ])
  })
})

describe('replaceHost', () => {
  const url = onDefault('lodash/-/lodash-4.17.21.tgz')

  describe("'npmjs' (the default)", () => {
    it('moves a default-registry URL to the configured registry', () => {
      expect(replaceHost(url, MIRROR, cfg({ registry: MIRROR }))).toBe('https://mirror.example.com/lodash/-/lodash-4.17.21.tgz')
    })
    it('moves it under the configured registry path prefix', () => {
      expect(replaceHost(url, PREFIXED, cfg({ registry: PREFIXED }))).toBe('https://mirror.example/npm/lodash/-/lodash-4.17.21.tgz')
    })
    it('moves a scoped default-registry URL under a prefix without touching the scope', () => {
      expect(replaceHost(onDefault('@corp/util/-/util-2.0.0.tgz'), PREFIXED, cfg({ registry: PREFIXED })))
        .toBe('https://mirror.example/npm/@corp/util/-/util-2.0.0.tgz')
    })
    it('takes the configured registry protocol and port', () => {
      expect(replaceHost(url, 'https://127.0.0.1:4873/', cfg())).toBe('https://127.0.0.1:4873/lodash/-/lodash-4.17.21.tgz')
      expect(replaceHost(onDefault('lodash/-/lodash-4.17.21.tgz').replace('https:', 'http:'), MIRROR, cfg()))
        .toBe('https://mirror.example.com/lodash/-/lodash-4.17.21.tgz')
    })
    it('leaves URLs on any other host alone', () => {
      const other = 'https://other.example.org/lodash/-/lodash-4.17.21.tgz'
      expect(replaceHost(other, MIRROR, cfg({ registry: MIRROR }))).toBe(other)
    })
    it('is the identity when the registry is the default one', () => {
      expect(replaceHost(url, DEFAULT_REGISTRY, cfg())).toBe(url)
    })
  })

  describe("'never'", () => {
    it('keeps every URL as written', () => {
      expect(replaceHost(url, MIRROR, cfg({ registry: MIRROR, replaceRegistryHost: 'never' }))).toBe(url)
      const other = 'https://other.example.org/lodash/-/lodash-4.17.21.tgz'
      expect(replaceHost(other, MIRROR, cfg({ registry: MIRROR, replaceRegistryHost: 'never' }))).toBe(other)
    })
  })

  describe("'always'", () => {
    const always = cfg({ registry: MIRROR, replaceRegistryHost: 'always' })
    it('moves URLs from any host to the configured registry', () => {
      expect(replaceHost('https://other.example.org/lodash/-/lodash-4.17.21.tgz', MIRROR, always))
        .toBe('https://mirror.example.com/lodash/-/lodash-4.17.21.tgz')
      expect(replaceHost(url, MIRROR, always)).toBe('https://mirror.example.com/lodash/-/lodash-4.17.21.tgz')
    })
    it('takes the configured registry port, dropping the one in the lockfile URL', () => {
      // npm (arborist) sets hostname and port from the registry
      expect(replaceHost('https://other.example.org:8443/lodash/-/lodash-4.17.21.tgz', MIRROR, always))
        .toBe('https://mirror.example.com/lodash/-/lodash-4.17.21.tgz')
    })
    it('does not double a registry path prefix the URL already has', () => {
      // a lockfile generated against the mirror itself: npm leaves its path alone
      const c = cfg({ registry: PREFIXED, replaceRegistryHost: 'always' })
      expect(replaceHost('https://mirror.example/npm/lodash/-/lodash-4.17.21.tgz', PREFIXED, c))
        .toBe('https://mirror.example/npm/lodash/-/lodash-4.17.21.tgz')
    })
  })

  describe('a host name', () => {
    const byHost = cfg({ registry: MIRROR, replaceRegistryHost: 'old.example.org' })
    it('moves only URLs on that host', () => {
      expect(replaceHost('https://old.example.org/lodash/-/lodash-4.17.21.tgz', MIRROR, byHost))
        .toBe('https://mirror.example.com/lodash/-/lodash-4.17.21.tgz')
      expect(replaceHost('https://other.example.org/lodash/-/lodash-4.17.21.tgz', MIRROR, byHost))
        .toBe('https://other.example.org/lodash/-/lodash-4.17.21.tgz')
    })
    it('no longer moves default-registry URLs', () => {
      expect(replaceHost(url, MIRROR, byHost)).toBe(url)
    })
    it('given as a URL, matches its host', () => {
      const c = cfg({ registry: MIRROR, replaceRegistryHost: 'https://old.example.org/' })
      expect(replaceHost('https://old.example.org/lodash/-/lodash-4.17.21.tgz', MIRROR, c))
        .toBe('https://mirror.example.com/lodash/-/lodash-4.17.21.tgz')
    })
    it('given as a URL with a path, swaps that path prefix for the registry path (npm replace-registry-host=url)', () => {
      const c = cfg({ registry: MIRROR, replaceRegistryHost: 'https://old.example.org/npm/' })
      expect(replaceHost('https://old.example.org/npm/lodash/-/lodash-4.17.21.tgz', MIRROR, c))
        .toBe('https://mirror.example.com/lodash/-/lodash-4.17.21.tgz')
    })
  })

  it('unparseable URLs come back unchanged', () => {
    expect(replaceHost('not a url', MIRROR, cfg({ registry: MIRROR, replaceRegistryHost: 'always' }))).toBe('not a url')
    expect(replaceHost(url, 'not a url', cfg({ replaceRegistryHost: 'always' }))).toBe(url)
  })
})

describe('checkTarballUrl', () => {
  it('accepts the conventional URL on the configured registry', () => {
    const c = cfg({ registry: MIRROR })
    const u = 'https://mirror.example.com/lodash/-/lodash-4.17.21.tgz'
    expect(checkTarballUrl(lodash, u, c)).toEqual({ url: u })
  })

  it('accepts a default-registry URL, rewritten to the configured registry', () => {
    expect(checkTarballUrl(lodash, onDefault('lodash/-/lodash-4.17.21.tgz'), cfg({ registry: MIRROR })))
      .toEqual({ url: 'https://mirror.example.com/lodash/-/lodash-4.17.21.tgz' })
  })

  it('http:// is refused with ESIHTTPURL, without credentials in the message', () => {
    const c = cfg({ registry: MIRROR })
    const r = checkTarballUrl(lodash, 'http://bob:hunter2@mirror.example.com/lodash/-/lodash-4.17.21.tgz', c)
    expect(r.violation?.code).toBe('ESIHTTPURL')
    expect(r.violation?.package).toBe('lodash@4.17.21')
    expect(r.violation?.path).toBe('node_modules/lodash')
    expect(r.violation?.message).toContain('http://')
    expect(r.violation?.message).toContain('mirror.example.com')
    expect(JSON.stringify(r.violation)).not.toContain('hunter2')
  })

  it("under 'never', an http:// default-registry URL stays http and is refused", () => {
    const r = checkTarballUrl(lodash, onDefault('lodash/-/lodash-4.17.21.tgz').replace('https:', 'http:'), cfg({ replaceRegistryHost: 'never' }))
    expect(r.violation?.code).toBe('ESIHTTPURL')
  })

  it('a foreign host is refused with ESIFOREIGNHOST naming both hosts', () => {
    const r = checkTarballUrl(lodash, 'https://evil.example.org/lodash/-/lodash-4.17.21.tgz', cfg({ registry: MIRROR }))
    expect(r.violation?.code).toBe('ESIFOREIGNHOST')
    expect(r.violation?.message).toContain('evil.example.org')
    expect(r.violation?.message).toContain('mirror.example.com')
    expect(r.url).toBe('https://evil.example.org/lodash/-/lodash-4.17.21.tgz')
  })

  it('the same host on another port is foreign', () => {
    const r = checkTarballUrl(lodash, 'https://mirror.example.com:8443/lodash/-/lodash-4.17.21.tgz', cfg({ registry: MIRROR }))
    expect(r.violation?.code).toBe('ESIFOREIGNHOST')
  })

  it("under 'never', a default-registry URL is foreign to a configured mirror", () => {
    const r = checkTarballUrl(lodash, onDefault('lodash/-/lodash-4.17.21.tgz'), cfg({ registry: MIRROR, replaceRegistryHost: 'never' }))
    expect(r.violation?.code).toBe('ESIFOREIGNHOST')
    expect(r.violation?.message).toContain(DEFAULT_HOST)
  })

  it('a scoped package on the default registry when its scope has its own is foreign, and the fix names the scope key', () => {
    const c = cfg({ registry: MIRROR, scopedRegistries: { '@corp': CORP } })
    const r = checkTarballUrl(scoped, 'https://mirror.example.com/@corp/util/-/util-2.0.0.tgz', c)
    expect(r.violation?.code).toBe('ESIFOREIGNHOST')
    expect(r.violation?.fix).toContain('@corp:registry')
  })

  it('another package path on the right host is refused with ESIURLPATH', () => {
    const c = cfg({ registry: MIRROR })
    const r = checkTarballUrl(lodash, 'https://mirror.example.com/evil/-/lodash-4.17.21.tgz', c)
    expect(r.violation?.code).toBe('ESIURLPATH')
    expect(r.violation?.message).toContain('/evil/-/lodash-4.17.21.tgz')
    expect(r.violation?.fix).toContain('/lodash/-/lodash-4.17.21.tgz')
  })

  it('another version is refused with ESIURLPATH', () => {
    const r = checkTarballUrl(lodash, 'https://mirror.example.com/lodash/-/lodash-4.17.20.tgz', cfg({ registry: MIRROR }))
    expect(r.violation?.code).toBe('ESIURLPATH')
  })

  it('another base name under the right folder is refused with ESIURLPATH', () => {
    const r = checkTarballUrl(lodash, 'https://mirror.example.com/lodash/-/evil-4.17.21.tgz', cfg({ registry: MIRROR }))
    expect(r.violation?.code).toBe('ESIURLPATH')
  })

  it('dot segments are resolved before the path is judged', () => {
    const r = checkTarballUrl(lodash, 'https://mirror.example.com/lodash/-/../../evil/-/lodash-4.17.21.tgz', cfg({ registry: MIRROR }))
    expect(r.violation?.code).toBe('ESIURLPATH')
  })

  it('scoped packages: "/" and "%2f"/"%2F" spellings all accepted on the scope registry', () => {
    const c = cfg({ registry: MIRROR, scopedRegistries: { '@corp': CORP } })
    for (const p of ['@corp/util', '@corp%2futil', '@corp%2Futil']) {
      const u = `${CORP}${p}/-/util-2.0.0.tgz`
      expect(checkTarballUrl(scoped, u, c), p).toEqual({ url: u })
    }
  })

  it('scoped packages: another scope or another version is ESIURLPATH', () => {
    const c = cfg({ scopedRegistries: { '@corp': CORP } })
    expect(checkTarballUrl(scoped, `${CORP}@evil/util/-/util-2.0.0.tgz`, c).violation?.code).toBe('ESIURLPATH')
    expect(checkTarballUrl(scoped, `${CORP}@corp%2futil/-/util-2.0.1.tgz`, c).violation?.code).toBe('ESIURLPATH')
    expect(checkTarballUrl(scoped, `${CORP}util/-/util-2.0.0.tgz`, c).violation?.code).toBe('ESIURLPATH')
  })

  it('a registry with a path prefix: URLs must be under the prefix', () => {
    const c = cfg({ registry: PREFIXED })
    expect(checkTarballUrl(lodash, 'https://mirror.example/npm/lodash/-/lodash-4.17.21.tgz', c).violation).toBeUndefined()
    expect(checkTarballUrl(lodash, 'https://mirror.example/other/lodash/-/lodash-4.17.21.tgz', c).violation?.code).toBe('ESIFOREIGNHOST')
    expect(checkTarballUrl(lodash, 'https://mirror.example/npmx/lodash/-/lodash-4.17.21.tgz', c).violation?.code).toBe('ESIFOREIGNHOST')
    expect(checkTarballUrl(lodash, 'https://mirror.example/lodash/-/lodash-4.17.21.tgz', c).violation?.code).toBe('ESIFOREIGNHOST')
    expect(checkTarballUrl(lodash, 'https://mirror.example/npm/evil/-/lodash-4.17.21.tgz', c).violation?.code).toBe('ESIURLPATH')
  })

  it('a registry with a path prefix: the foreign-host message shows the prefix', () => {
    const r = checkTarballUrl(lodash, 'https://evil.example.org/lodash/-/lodash-4.17.21.tgz', cfg({ registry: PREFIXED }))
    expect(r.violation?.message).toContain('mirror.example/npm/')
  })

  it('a non-URL is refused as ESIFOREIGNHOST', () => {
    const r = checkTarballUrl(lodash, 'lodash-4.17.21.tgz', cfg({ registry: MIRROR }))
    expect(r.violation?.code).toBe('ESIFOREIGNHOST')
    expect(r.violation?.message).toMatch(/not a URL/)
  })

  it('the `what` argument names the field in messages', () => {
    const r = checkTarballUrl(lodash, 'https://evil.example.org/lodash/-/lodash-4.17.21.tgz', cfg({ registry: MIRROR }), 'dist.tarball')
    expect(r.violation?.message).toMatch(/^dist\.tarball of lodash@4\.17\.21/)
  })

  it("'always' with a prefixed registry accepts a lockfile written against that same registry", () => {
    const c = cfg({ registry: PREFIXED, replaceRegistryHost: 'always' })
    const u = 'https://mirror.example/npm/lodash/-/lodash-4.17.21.tgz'
    expect(checkTarballUrl(lodash, u, c)).toEqual({ url: u })
  })
})

describe('checkLockfileUrls', () => {
  it('entries without resolved get the conventional URL of their registry', () => {
    const c = cfg({ registry: MIRROR, scopedRegistries: { '@corp': CORP } })
    const { violations, urls } = checkLockfileUrls([
      makeEntry({ name: 'lodash', version: '4.17.21' }),
      makeEntry({ name: '@corp/util', version: '2.0.0', location: 'node_modules/@corp/util' }),
    ], c)
    expect(violations).toEqual([])
    expect(urls.get('node_modules/lodash')).toBe('https://mirror.example.com/lodash/-/lodash-4.17.21.tgz')
    expect(urls.get('node_modules/@corp/util')).toBe('https://npm.corp.example.org/@corp/util/-/util-2.0.0.tgz')
  })

  it('resolved URLs are judged and the effective (rewritten) URL recorded', () => {
    const { violations, urls } = checkLockfileUrls([
      makeEntry({ name: 'lodash', version: '4.17.21', resolved: onDefault('lodash/-/lodash-4.17.21.tgz') }),
    ], cfg({ registry: PREFIXED }))
    expect(violations).toEqual([])
    expect(urls.get('node_modules/lodash')).toBe('https://mirror.example/npm/lodash/-/lodash-4.17.21.tgz')
  })

  it('violations are collected, and the URL is still recorded', () => {
    const { violations, urls } = checkLockfileUrls([
      makeEntry({ name: 'a', resolved: 'https://evil.example.org/a/-/a-1.0.0.tgz' }),
      makeEntry({ name: 'b', resolved: 'http://mirror.example.com/b/-/b-1.0.0.tgz' }),
      makeEntry({ name: 'c', resolved: 'https://mirror.example.com/c/-/c-1.0.0.tgz' }),
    ], cfg({ registry: MIRROR }))
    expect(violations.map(v => [v.package, v.code])).toEqual([['a@1.0.0', 'ESIFOREIGNHOST'], ['b@1.0.0', 'ESIHTTPURL']])
    expect([...urls.keys()]).toEqual(['node_modules/a', 'node_modules/b', 'node_modules/c'])
  })

  it('bundled and non-registry entries are skipped entirely', () => {
    const { violations, urls } = checkLockfileUrls([
      makeEntry({ name: 'in-bundle', bundled: true, resolved: 'https://evil.example.org/x.tgz' }),
      makeEntry({ name: 'in-bundle-2', bundled: true }),
      makeEntry({ name: 'r', source: 'remote', resolved: 'https://evil.example.org/r.tgz' }),
      makeEntry({ name: 'g', source: 'git', resolved: 'git+ssh://git@example.com/g.git' }),
      makeEntry({ name: 'f', source: 'file', resolved: 'file:f.tgz' }),
    ], cfg({ registry: MIRROR }))
    expect(violations).toEqual([])
    expect(urls.size).toBe(0)
  })
})
