import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  canonicalNames, identityFromResolved, isAllowed, loadAllowLists, parseAllowLists, parseAllowScriptsList, parseWorkspaceYaml,
} from '../../../lib/rebuild/allowlist.js'
import { entry, plan } from './helpers.js'
import { PUBLIC_REGISTRY } from '../../helpers/registry-host.js'

const ROOT = '/project'
const lists = (pkg: any, extra: { workspaceYaml?: string, npmrcAllowScripts?: string[] | string } = {}) => parseAllowLists(pkg, { root: ROOT, ...extra })

describe('npm allowScripts (package.json)', () => {
  const l = lists({
    allowScripts: {
      esbuild: true,
      'sharp@0.33.5': true,
      'canvas@2.11.0 || 2.11.2': true,
      'core-js': false,
      'bad@^1.0.0': true,
      'tagged@latest': true,
      'alias@npm:esbuild@1': true,
      'git+ssh://git@github.com/acme/native.git#abc1234': true,
      'file:vendor/local.tgz': true,
      'notbool': 'yes',
    },
  })

  it('keeps valid keys and warns about ranges, tags, aliases, non-booleans', () => {
    expect(l.npm?.source).toBe('package.json')
    expect(Object.keys(l.npm!.policy).sort()).toEqual([
      'canvas@2.11.0 || 2.11.2', 'core-js', 'esbuild', 'file:vendor/local.tgz', 'git+ssh://git@github.com/acme/native.git#abc1234', 'sharp@0.33.5',
    ])
    const w = l.warnings.join('\n')
    expect(w).toMatch(/bad@\^1.0.0.*semver ranges/)
    expect(w).toMatch(/tagged@latest.*dist-tags/)
    expect(w).toMatch(/alias@npm:esbuild@1.*aliases/)
    expect(w).toMatch(/notbool/)
  })

  it('bare names allow every version; pinned keys only the pinned versions', () => {
    expect(isAllowed(entry('esbuild', '0.25.0'), l)).toEqual({ allowed: true, by: 'package.json allowScripts "esbuild"' })
    expect(isAllowed(entry('sharp', '0.33.5'), l).allowed).toBe(true)
    expect(isAllowed(entry('sharp', '0.33.4'), l)).toEqual({ allowed: false, by: 'not in any allowlist' })
    expect(isAllowed(entry('canvas', '2.11.2'), l).allowed).toBe(true)
    expect(isAllowed(entry('canvas', '2.11.1'), l).allowed).toBe(false)
    expect(isAllowed(entry('bad', '1.0.0'), l).allowed).toBe(false)
  })

  it('explicit denials', () => {
    expect(isAllowed(entry('core-js', '3.0.0'), l)).toEqual({ allowed: false, denied: true, by: 'denied by package.json allowScripts "core-js"' })
  })

  it('identity is the lockfile entry: an alias installs the real package', () => {
    // `"esbuild": "npm:evil@1.0.0"`: installed under node_modules/esbuild, real name evil
    const aliased = entry('evil', '1.0.0', { location: 'node_modules/esbuild', installName: 'esbuild' })
    expect(isAllowed(aliased, l).allowed).toBe(false)
  })

  it('a lockfile entry whose resolved URL names another package is not allowed', () => {
    const spoof = entry('esbuild', '0.25.0', { resolved: `${PUBLIC_REGISTRY}evil/-/evil-1.0.0.tgz` })
    const d = isAllowed(spoof, l)
    expect(d.allowed).toBe(false)
    expect(d.by).toMatch(/resolved URL/)
    // but a deny still matches either identity
    const spoofDenied = entry('esbuild', '1.0.0', { resolved: `${PUBLIC_REGISTRY}core-js/-/core-js-3.0.0.tgz` })
    expect(isAllowed(spoofDenied, l).denied).toBe(true)
    // a registry key never matches a git or tarball source of the same name
    expect(isAllowed(entry('esbuild', '0.25.0', { source: 'git', resolved: 'git+ssh://git@github.com/x/esbuild.git#0123456789' }), l).allowed).toBe(false)
  })

  it('git keys match host and a short-sha prefix', () => {
    const full = 'git+ssh://git@github.com/acme/native.git#abc1234def5678901234567890abcdef12345678'
    expect(isAllowed(entry('native', '1.0.0', { source: 'git', resolved: full }), l).allowed).toBe(true)
    expect(isAllowed(entry('native', '1.0.0', { source: 'git', resolved: full.replace('abc1234', 'fff1234') }), l).allowed).toBe(false)
    expect(isAllowed(entry('native', '1.0.0', { source: 'git', resolved: full.replace('acme', 'other') }), l).allowed).toBe(false)
  })

  it('file keys match the resolved path', () => {
    expect(isAllowed(entry('local', '1.0.0', { source: 'file', resolved: 'file:vendor/local.tgz' }), l).allowed).toBe(true)
    expect(isAllowed(entry('local', '1.0.0', { source: 'file', resolved: 'file:vendor/other.tgz' }), l).allowed).toBe(false)
  })

  it('.npmrc allow-scripts is used only without package.json allowScripts', () => {
    const rc = lists({}, { npmrcAllowScripts: 'esbuild, sharp' })
    expect(rc.npm).toEqual({ source: '.npmrc', policy: { esbuild: true, sharp: true } })
    expect(isAllowed(entry('sharp', '1.0.0'), rc)).toEqual({ allowed: true, by: '.npmrc allow-scripts "sharp"' })
    const both = lists({ allowScripts: { esbuild: true } }, { npmrcAllowScripts: ['sharp'] })
    expect(both.npm?.source).toBe('package.json')
    expect(isAllowed(entry('sharp', '1.0.0'), both).allowed).toBe(false)
    expect(both.warnings.join()).toMatch(/\.npmrc allow-scripts is ignored/)
    expect(parseAllowScriptsList(['a, b', ' c ', 5, ''])).toEqual(['a', 'b', 'c'])
  })
})

describe('pnpm', () => {
  it('pnpm.onlyBuiltDependencies allows; never/ignored deny', () => {
    const l = lists({ pnpm: { onlyBuiltDependencies: ['esbuild', '@swc/*', 'nx@21.6.4 || 21.6.5'], ignoredBuiltDependencies: ['core-js'], neverBuiltDependencies: ['husky'] } })
    expect(isAllowed(entry('esbuild', '1.0.0'), l)).toEqual({ allowed: true, by: 'package.json pnpm.onlyBuiltDependencies "esbuild"' })
    expect(isAllowed(entry('@swc/core', '1.0.0'), l).allowed).toBe(true)
    expect(isAllowed(entry('nx', '21.6.5'), l).allowed).toBe(true)
    expect(isAllowed(entry('nx', '21.6.6'), l).allowed).toBe(false)
    expect(isAllowed(entry('core-js', '3.0.0'), l).denied).toBe(true)
    expect(isAllowed(entry('husky', '9.0.0'), l).denied).toBe(true)
    // neverBuiltDependencies never turns into "everything else is allowed"
    expect(isAllowed(entry('random', '1.0.0'), l).allowed).toBe(false)
  })

  it('allowBuilds maps (pnpm.allowBuilds and top-level)', () => {
    const l = lists({ pnpm: { allowBuilds: { esbuild: true, 'core-js': false } }, allowBuilds: { 'sharp@0.34.5': true, weird: 'warn' } })
    expect(isAllowed(entry('esbuild', '1.0.0'), l).by).toBe('package.json pnpm.allowBuilds "esbuild"')
    expect(isAllowed(entry('core-js', '1.0.0'), l).denied).toBe(true)
    expect(isAllowed(entry('sharp', '0.34.5'), l).by).toBe('package.json allowBuilds "sharp@0.34.5"')
    expect(isAllowed(entry('sharp', '0.34.4'), l).allowed).toBe(false)
    expect(isAllowed(entry('weird', '1.0.0'), l).allowed).toBe(false)
    expect(l.warnings.join()).toMatch(/weird/)
  })

  it('pnpm-workspace.yaml (simple YAML)', () => {
    const yaml = [
      'packages:',
      '  - "packages/*"',
      '',
      '# build permissions',
      'onlyBuiltDependencies:',
      '  - esbuild   # bundler',
      '  - "@parcel/watcher"',
      'allowBuilds:',
      "  '@swc/core': true",
      '  core-js: false',
      'ignoredBuiltDependencies: [husky, "lefthook"]',
      'catalog:',
      '  react: ^18',
    ].join('\n')
    const y = parseWorkspaceYaml(yaml)
    expect(y.warnings).toEqual([])
    expect(y.values).toEqual({
      onlyBuiltDependencies: ['esbuild', '@parcel/watcher'],
      allowBuilds: { '@swc/core': true, 'core-js': false },
      ignoredBuiltDependencies: ['husky', 'lefthook'],
    })
    const l = lists({}, { workspaceYaml: yaml })
    expect(isAllowed(entry('@parcel/watcher', '2.0.0'), l).by).toBe('pnpm-workspace.yaml onlyBuiltDependencies "@parcel/watcher"')
    expect(isAllowed(entry('@swc/core', '1.0.0'), l).allowed).toBe(true)
    expect(isAllowed(entry('lefthook', '1.0.0'), l).denied).toBe(true)
  })

  it('unsupported YAML under a build key is reported, not guessed', () => {
    const y = parseWorkspaceYaml('onlyBuiltDependencies: &anchor\n  - a\nallowBuilds:\n  esbuild:\n    nested: true\n')
    expect(y.values).toEqual({})
    expect(y.warnings).toHaveLength(2)
  })
})

describe('LavaMoat', () => {
  const a = entry('a', '1.0.0', { dependencies: ['node_modules/b'] })
  const b = entry('b', '1.0.0', { isRootDependency: false, dependencies: ['node_modules/a/node_modules/c'] })
  const c = entry('c', '2.0.0', { location: 'node_modules/a/node_modules/c', isRootDependency: false })
  const cTop = entry('c', '1.0.0', { isRootDependency: false })
  const keccak = entry('keccak', '3.0.0')
  const p = plan([a, b, c, cTop, keccak])

  it('canonical names are the shortest dependency paths', () => {
    const names = canonicalNames(p)
    expect(names.get('node_modules/a')).toBe('a')
    expect(names.get('node_modules/b')).toBe('a>b')
    expect(names.get('node_modules/a/node_modules/c')).toBe('a>b>c')
    expect(names.has('node_modules/c')).toBe(false) // nobody depends on it
  })

  it('matches `a>b` paths, top-level names and denials', () => {
    const l = lists({ lavamoat: { allowScripts: { keccak: true, 'a>b': true, 'a>b>c': false, $root$: true } } })
    expect(isAllowed(keccak, l, p)).toEqual({ allowed: true, by: 'package.json lavamoat.allowScripts "keccak"' })
    expect(isAllowed(b, l, p).allowed).toBe(true)
    expect(isAllowed(c, l, p).denied).toBe(true)
    expect(isAllowed(a, l, p).allowed).toBe(false)
    // without the plan only top-level names are known
    expect(isAllowed(keccak, l).allowed).toBe(true)
    expect(isAllowed(b, l).allowed).toBe(false)
  })

  it('a bare name does not allow the same name deeper in the tree', () => {
    const l = lists({ lavamoat: { allowScripts: { b: true } } })
    expect(isAllowed(b, l, p).allowed).toBe(false)
  })
})

describe('identity and special entries', () => {
  const l = lists({ allowScripts: { esbuild: true }, pnpm: { onlyBuiltDependencies: ['esbuild'] }, lavamoat: { allowScripts: { esbuild: true } } })

  it('decides on the PlanEntry name, whatever the tarball says', () => {
    // the installed tarball may claim "esbuild"; the lockfile says "evil"
    expect(isAllowed(entry('evil', '1.0.0'), l).allowed).toBe(false)
  })

  it('bundled entries never run scripts; workspaces are project code; links defer to targets', () => {
    expect(isAllowed(entry('esbuild', '1.0.0', { bundled: true }), l).allowed).toBe(false)
    expect(isAllowed(entry('ws-a', '1.0.0', { source: 'workspace', location: 'packages/a' }), l)).toEqual({ allowed: true, by: 'workspace (project code)' })
    expect(isAllowed(entry('esbuild', '1.0.0', { source: 'link', resolved: 'packages/esbuild' }), l).allowed).toBe(false)
  })

  it('a deny in one list beats an allow in another', () => {
    const mixed = lists({ allowScripts: { esbuild: true }, pnpm: { neverBuiltDependencies: ['esbuild'] } })
    expect(isAllowed(entry('esbuild', '1.0.0'), mixed)).toEqual({ allowed: false, denied: true, by: 'denied by package.json pnpm.neverBuiltDependencies "esbuild"' })
  })

  it('reads version-from-tgz like arborist', () => {
    expect(identityFromResolved(`${PUBLIC_REGISTRY}@scope/pkg/-/pkg-1.2.3.tgz`)).toEqual({ name: '@scope/pkg', version: '1.2.3' })
    expect(identityFromResolved('https://r.example/npm/@scope%2fpkg/-/pkg-1.2.3-beta.1.tgz')).toEqual({ name: '@scope/pkg', version: '1.2.3-beta.1' })
    expect(identityFromResolved('https://evil.com/-/trusted-1.0.0.tgz')).toBeUndefined()
    expect(identityFromResolved('git+ssh://x')).toBeUndefined()
  })
})

describe('loadAllowLists', () => {
  it('reads package.json and pnpm-workspace.yaml from the prefix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'si-allow-'))
    try {
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'x', allowScripts: { esbuild: true } }))
      await writeFile(join(dir, 'pnpm-workspace.yaml'), 'onlyBuiltDependencies:\n  - sharp\n')
      const l = await loadAllowLists(dir)
      expect(l.root).toBe(dir)
      expect(isAllowed(entry('esbuild', '1.0.0'), l).allowed).toBe(true)
      expect(isAllowed(entry('sharp', '1.0.0'), l).allowed).toBe(true)
      const missing = await loadAllowLists(join(dir, 'nope'))
      expect(missing.warnings.join()).toMatch(/package.json could not be read/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
