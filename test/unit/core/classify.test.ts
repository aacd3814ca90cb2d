import { describe, expect, it } from 'vitest'

import { classifySource, looksLikeRegistryTarball, type ClassifyInput } from '../../../lib/plan/classify.js'

function classify (over: Partial<ClassifyInput>): string {
  return classifySource({ specs: [], isLink: false, isWorkspace: false, ...over })
}
const spec = (s: string, name = 'foo') => [{ name, spec: s }]

const REG_TGZ = 'https://registry.example.com/foo/-/foo-1.0.0.tgz'
const GIT_SHA = '0123456789abcdef0123456789abcdef01234567'

describe('classifySource: registry', () => {
  it('semver ranges, versions and tags are registry', () => {
    for (const s of ['^1.0.0', '1.0.0', '~1.2', '*', 'latest', '>=1 <2']) {
      expect(classify({ specs: spec(s), resolved: REG_TGZ }), s).toBe('registry')
    }
  })

  it('a registry spec with a foreign resolved URL is still registry (the URL policy judges the host)', () => {
    expect(classify({ specs: spec('^1.0.0'), resolved: 'https://evil.example.org/payload.tgz' })).toBe('registry')
    expect(classify({ specs: spec('^1.0.0'), resolved: 'http://evil.example.org/x/y/z' })).toBe('registry')
  })

  it('an alias spec npm:foo@1 is registry', () => {
    expect(classify({ specs: spec('npm:foo@1', 'bar'), resolved: REG_TGZ })).toBe('registry')
    expect(classify({ specs: spec('npm:@scope/foo@^2', 'bar') })).toBe('registry')
  })

  it('one registry edge wins over a remote edge to the same entry', () => {
    expect(classify({ specs: [{ name: 'foo', spec: 'https://example.com/foo.tgz' }, { name: 'foo', spec: '^1.0.0' }], resolved: REG_TGZ }))
      .toBe('registry')
  })

  it('no specs and a registry-shaped or missing resolved is registry', () => {
    expect(classify({ resolved: REG_TGZ })).toBe('registry')
    expect(classify({})).toBe('registry')
  })

  it('an unparseable spec falls back to the resolved URL', () => {
    expect(classify({ specs: spec('npm:foo@github:a/b', 'bar'), resolved: REG_TGZ })).toBe('registry')
  })
})

describe('classifySource: remote', () => {
  it('an https://x/y.tgz spec is remote', () => {
    expect(classify({ specs: spec('https://x/y.tgz'), resolved: 'https://x/y.tgz' })).toBe('remote')
  })

  it('a remote spec stays remote even when its URL looks like a registry tarball', () => {
    expect(classify({ specs: spec(REG_TGZ), resolved: REG_TGZ })).toBe('remote')
  })

  it('no specs and a non-registry-shaped http(s) resolved is remote', () => {
    expect(classify({ resolved: 'https://example.com/downloads/foo.tgz' })).toBe('remote')
    expect(classify({ resolved: 'http://example.com/foo' })).toBe('remote')
  })
})

describe('classifySource: git', () => {
  it('git resolved URLs are git, whatever the spec', () => {
    for (const r of [
      `git+ssh://git@example.com/a/b.git#${GIT_SHA}`,
      `git+https://example.com/a/b.git#${GIT_SHA}`,
      `git://example.com/a/b.git#${GIT_SHA}`,
      `GIT+SSH://git@example.com/a/b.git#${GIT_SHA}`,
      `github:a/b#${GIT_SHA}`,
      `gitlab:a/b#${GIT_SHA}`,
      `bitbucket:a/b#${GIT_SHA}`,
      `gist:abc#${GIT_SHA}`,
    ]) {
      expect(classify({ specs: spec('^1.0.0'), resolved: r }), r).toBe('git')
    }
  })

  it('git specs are git', () => {
    for (const s of ['github:a/b', 'a/b', 'git+ssh://git@example.com/a/b.git', 'git+https://example.com/a/b.git#semver:^1']) {
      expect(classify({ specs: spec(s) }), s).toBe('git')
    }
  })

  it('a git edge beats a remote edge', () => {
    expect(classify({ specs: [{ name: 'foo', spec: 'https://x/y.tgz' }, { name: 'foo', spec: 'github:a/b' }] })).toBe('git')
  })
})

describe('classifySource: file and directory', () => {
  it('file: tarballs are file', () => {
    for (const r of ['file:vendor/foo-1.0.0.tgz', 'file:../foo.tar.gz', 'file:foo.TAR', 'file:/abs/foo.TGZ']) {
      expect(classify({ resolved: r }), r).toBe('file')
    }
  })

  it('file: folders are directory', () => {
    for (const r of ['file:../foo', 'file:packages/foo', 'file:foo.tgz.d']) {
      expect(classify({ resolved: r }), r).toBe('directory')
    }
  })

  it('file: specs without resolved classify the same way', () => {
    expect(classify({ specs: spec('file:vendor/foo.tgz') })).toBe('file')
    expect(classify({ specs: spec('file:../foo') })).toBe('directory')
  })

  it('a file: resolved wins over a registry spec', () => {
    expect(classify({ specs: spec('^1.0.0'), resolved: 'file:vendor/foo-1.0.0.tgz' })).toBe('file')
  })
})

describe('classifySource: link and workspace', () => {
  it('a link is a link, even the one Arborist also marks as a workspace; the workspace folder wins over everything else', () => {
    expect(classify({ isWorkspace: true, isLink: true, resolved: `git+ssh://git@example.com/a/b.git#${GIT_SHA}` })).toBe('link')
    expect(classify({ isWorkspace: true, resolved: `git+ssh://git@example.com/a/b.git#${GIT_SHA}` })).toBe('workspace')
  })

  it('the folder a file: dependency links to is a directory source', () => {
    expect(classify({ isLinkTarget: true, specs: [] })).toBe('directory')
    expect(classify({ isLinkTarget: true, isWorkspace: true })).toBe('workspace')
  })

  it('link wins over resolved and specs', () => {
    expect(classify({ isLink: true, resolved: 'file:../foo', specs: spec('file:../foo') })).toBe('link')
    expect(classify({ isLink: true, specs: spec('^1.0.0') })).toBe('link')
  })
})

describe('looksLikeRegistryTarball', () => {
  it('matches <registry>/<name>/-/<file>.tgz', () => {
    expect(looksLikeRegistryTarball(REG_TGZ)).toBe(true)
    expect(looksLikeRegistryTarball('https://example.com/npm/@s/foo/-/foo-1.0.0.tgz')).toBe(true)
  })
  it('rejects other shapes and non-URLs', () => {
    expect(looksLikeRegistryTarball('https://example.com/foo-1.0.0.tgz')).toBe(false)
    expect(looksLikeRegistryTarball('https://example.com/foo/-/foo-1.0.0.zip')).toBe(false)
    expect(looksLikeRegistryTarball('https://example.com/foo/-/sub/foo-1.0.0.tgz')).toBe(false)
    expect(looksLikeRegistryTarball('not a url')).toBe(false)
  })
})
