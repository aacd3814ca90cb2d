// The real CLI against the fixture registry: clean installs and every
// refusal of the core pipeline, each leaving node_modules as it was.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { snapshotTree, diffTrees } from '../helpers/tree.js'
import { codes, setup, type Setup } from './helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

const exists = (p: string) => fs.existsSync(p)

describe('safe-install ci: clean installs', () => {
  it('installs a small scoped tree exactly as the lockfile says, with bins and npm\'s hidden lockfile', async () => {
    s = await setup([
      { name: 'leaf', version: '1.0.0', files: { 'index.js': 'module.exports = 1\n' } },
      { name: 'leaf', version: '2.0.0', files: { 'index.js': 'module.exports = 2\n' } },
      { name: '@acme/tool', version: '1.2.3', manifest: { bin: { 'acme-tool': 'cli.js' }, dependencies: { leaf: '^1.0.0' } }, files: { 'cli.js': '#!/usr/bin/env node\n' } },
      { name: 'other', version: '1.0.0', manifest: { dependencies: { leaf: '^2.0.0' } } },
    ], { dependencies: { '@acme/tool': '^1.0.0', other: '1.0.0' } })
    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(0)
    expect(report.ok).toBe(true)
    expect(report.stats.fetched).toBe(4)
    expect(report.stats.fromNetwork).toBe(4)
    const nm = path.join(s.project.dir, 'node_modules')
    const pkg = (p: string) => JSON.parse(fs.readFileSync(path.join(nm, p, 'package.json'), 'utf8'))
    expect(pkg('@acme/tool').version).toBe('1.2.3')
    // two versions of leaf, placed as npm places them
    const leafVersions = [pkg('leaf').version, pkg(exists(path.join(nm, 'other/node_modules/leaf')) ? 'other/node_modules/leaf' : '@acme/tool/node_modules/leaf').version].sort()
    expect(leafVersions).toEqual(['1.0.0', '2.0.0'])
    expect(fs.readlinkSync(path.join(nm, '.bin', 'acme-tool'))).toBe('../@acme/tool/cli.js')
    expect(exists(path.join(nm, '.package-lock.json'))).toBe(true)
    expect(exists(path.join(nm, '.safe-install', 'record.cdx.json'))).toBe(true)
    // human output on a second, warm run
    fs.rmSync(nm, { recursive: true })
    const warm = await s.si(['ci'])
    expect(warm.code).toBe(0)
    expect(warm.stdout).toMatch(/4 packages verified and installed: 4 from cache, 0 from the network/)
  })

  it('verify checks everything and writes nothing', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }], { dependencies: { leaf: '1.0.0' } })
    const r = await s.si(['verify'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/verified \(nothing written\)/)
    expect(exists(path.join(s.project.dir, 'node_modules'))).toBe(false)
  })

  it('installs a workspaces project: links for workspaces, registry deps verified', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }, { name: 'util', version: '3.0.0' }], {
      workspaces: { 'packages/a': { name: 'a', dependencies: { leaf: '1.0.0' } }, 'packages/b': { name: 'b', dependencies: { a: '1.0.0', util: '3.0.0' } } },
    })
    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(0)
    expect(report.stats.fetched).toBe(2)
    const nm = path.join(s.project.dir, 'node_modules')
    expect(fs.lstatSync(path.join(nm, 'a')).isSymbolicLink()).toBe(true)
    expect(fs.realpathSync(path.join(nm, 'a'))).toBe(fs.realpathSync(path.join(s.project.dir, 'packages/a')))
    expect(exists(path.join(nm, 'leaf/package.json'))).toBe(true)
    expect(exists(path.join(nm, 'util/package.json'))).toBe(true)
  })

  it('`install` resolves, writes the lockfile and package.json, and verifies before writing', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }, { name: 'leaf', version: '1.1.0' }], { dependencies: {} }, { lock: false })
    const r = await s.si(['install', 'leaf@^1.0.0'])
    expect(r.stderr + r.stdout).toMatch(/verified and installed/)
    expect(r.code).toBe(0)
    const pkg = JSON.parse(fs.readFileSync(path.join(s.project.dir, 'package.json'), 'utf8'))
    expect(pkg.dependencies.leaf).toBe('^1.1.0')
    expect(s.lockfile().packages['node_modules/leaf'].version).toBe('1.1.0')
    expect(exists(path.join(s.project.dir, 'node_modules/leaf/package.json'))).toBe(true)
  })
})

describe('safe-install ci: never runs package code (SCVS 4.18)', () => {
  it('skips lifecycle scripts and implicit node-gyp, and lists them', async () => {
    s = await setup([
      { name: 'scripted', version: '1.0.0', manifest: { scripts: { postinstall: 'node -e "require(\'fs\').writeFileSync(\'MARKER\',\'x\')"', preinstall: 'touch PRE' } } },
      { name: 'native', version: '1.0.0', files: { 'binding.gyp': '{"targets":[]}' } },
    ], { dependencies: { scripted: '1.0.0', native: '1.0.0' } })
    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(0)
    const nm = path.join(s.project.dir, 'node_modules')
    expect(exists(path.join(nm, 'scripted/MARKER'))).toBe(false)
    expect(exists(path.join(nm, 'scripted/PRE'))).toBe(false)
    expect(exists(path.join(nm, 'native/build'))).toBe(false)
    const skipped = Object.fromEntries(report.scriptsSkipped.map((x: any) => [x.name, x.scripts]))
    expect(skipped.scripted).toEqual(['preinstall', 'postinstall'])
    expect(skipped.native).toEqual(['install (node-gyp rebuild)'])
    const human = await s.si(['verify'])
    expect(human.stdout).toMatch(/install scripts not run \(2 packages\)/)
    expect(human.stdout).toMatch(/scripted@1.0.0: preinstall, postinstall/)
  })
})

describe('safe-install ci: refusals leave node_modules exactly as it was', () => {
  async function installedThenChanged (change: (s: Setup) => Promise<void> | void, expectCode: string, exit: number, extraArgs: string[] = []) {
    s = await setup([
      { name: 'leaf', version: '1.0.0' },
      { name: 'leaf', version: '1.0.1' },
      { name: 'keep', version: '1.0.0', manifest: { dependencies: { leaf: '^1.0.0' } } },
    ], { dependencies: { keep: '1.0.0', leaf: '1.0.0' } })
    expect((await s.si(['ci'])).code).toBe(0)
    const before = snapshotTree(path.join(s.project.dir, 'node_modules'))
    await change(s)
    const { code, report, stderr } = await s.siJson(['ci', ...extraArgs])
    expect(codes(report)).toContain(expectCode)
    expect(code).toBe(exit)
    expect(stderr).not.toMatch(/^\s+at /m)
    expect(diffTrees(before, snapshotTree(path.join(s.project.dir, 'node_modules')))).toEqual([])
    return report
  }

  it('tampered tarball: ESIINTEGRITY', async () => {
    await installedThenChanged(async s => {
      // the lockfile now asks for 1.0.1, whose bytes the registry swaps
      const l = s.lockfile()
      const pub = await s.registry.publish({ name: 'fresh', version: '1.0.0' })
      l.packages['node_modules/fresh'] = { version: '1.0.0', resolved: pub.tarballUrl, integrity: pub.integrity }
      l.packages[''].dependencies.fresh = '1.0.0'
      s.writeLockfile(l)
      const pj = path.join(s.project.dir, 'package.json')
      const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'))
      pkg.dependencies.fresh = '1.0.0'
      fs.writeFileSync(pj, JSON.stringify(pkg))
      s.registry.tamperTarball('fresh', '1.0.0')
    }, 'ESIINTEGRITY', 1)
  })

  it('republished version: ESIREPUBLISHED', async () => {
    await installedThenChanged(async s => {
      await s.registry.republish('leaf', '1.0.0', { 'index.js': 'evil()\n' })
      fs.rmSync(path.join(s.project.cache), { recursive: true, force: true })
    }, 'ESIREPUBLISHED', 1)
  })

  it('http:// resolved URL: ESIHTTPURL', async () => {
    await installedThenChanged(s => {
      const l = s.lockfile()
      l.packages['node_modules/leaf'].resolved = l.packages['node_modules/leaf'].resolved.replace('https:', 'http:')
      s.writeLockfile(l)
    }, 'ESIHTTPURL', 1)
  })

  it('foreign host: ESIFOREIGNHOST', async () => {
    await installedThenChanged(s => {
      const l = s.lockfile()
      l.packages['node_modules/leaf'].resolved = 'https://attacker.example/leaf/-/leaf-1.0.0.tgz'
      s.writeLockfile(l)
    }, 'ESIFOREIGNHOST', 1)
  })

  it('a resolved path naming another package: ESIURLPATH', async () => {
    await installedThenChanged(s => {
      const l = s.lockfile()
      l.packages['node_modules/leaf'].resolved = l.packages['node_modules/leaf'].resolved.replace('/leaf/-/leaf-1.0.0.tgz', '/evil/-/leaf-1.0.0.tgz')
      s.writeLockfile(l)
    }, 'ESIURLPATH', 1)
  })

  it('collects all lockfile violations in one run', async () => {
    const report = await installedThenChanged(s => {
      const l = s.lockfile()
      l.packages['node_modules/leaf'].resolved = 'https://attacker.example/leaf/-/leaf-1.0.0.tgz'
      l.packages['node_modules/keep'].resolved = l.packages['node_modules/keep'].resolved.replace('https:', 'http:')
      s.writeLockfile(l)
    }, 'ESIFOREIGNHOST', 1)
    expect(codes(report).sort()).toEqual(['ESIFOREIGNHOST', 'ESIHTTPURL'])
    expect(report.violations.map((v: any) => v.path).sort()).toEqual(['node_modules/keep', 'node_modules/leaf'])
  })

  it('a lockfile entry without integrity: ESINOINTEGRITY, unless allowed', async () => {
    await installedThenChanged(s => {
      const l = s.lockfile()
      delete l.packages['node_modules/leaf'].integrity
      s.writeLockfile(l)
    }, 'ESINOINTEGRITY', 1)
  })

  it('git dependency: ESIGIT by default', async () => {
    await installedThenChanged(s => {
      const l = s.lockfile()
      l.packages['node_modules/gitdep'] = { version: '1.0.0', resolved: 'git+ssh://git@github.com/example/gitdep.git#0123456789abcdef0123456789abcdef01234567' }
      l.packages[''].dependencies.gitdep = 'github:example/gitdep'
      s.writeLockfile(l)
      const pj = path.join(s.project.dir, 'package.json')
      const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'))
      pkg.dependencies.gitdep = 'github:example/gitdep'
      fs.writeFileSync(pj, JSON.stringify(pkg))
    }, 'ESIGIT', 1)
  })

  it('strict-ssl=false: ESISTRICTSSL before any request', async () => {
    await installedThenChanged(s => {
      fs.appendFileSync(s.project.userconfig, '\nstrict-ssl=false\n')
      s.registry.requests.length = 0
    }, 'ESISTRICTSSL', 3)
    expect(s!.registry.requests).toEqual([])
  })

  it('NODE_TLS_REJECT_UNAUTHORIZED=0: ESITLSENV', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }], { dependencies: { leaf: '1.0.0' } })
    const { code, report } = await s.siJson(['ci'], { NODE_TLS_REJECT_UNAUTHORIZED: '0' })
    expect(code).toBe(3)
    expect(codes(report)).toEqual(['ESITLSENV'])
    expect(fs.existsSync(path.join(s.project.dir, 'node_modules'))).toBe(false)
  })

  it('an http:// registry: ESIHTTPREGISTRY', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }], { dependencies: { leaf: '1.0.0' } })
    const { code, report } = await s.siJson(['ci', '--registry', s.registry.url.replace('https:', 'http:')])
    expect(code).toBe(3)
    expect(codes(report)).toEqual(['ESIHTTPREGISTRY'])
  })

  it('without the private CA the registry is not trusted (the cafile is what makes it work)', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }], { dependencies: { leaf: '1.0.0' } })
    // no retries: a certificate error is not transient
    const cfg = fs.readFileSync(s.project.userconfig, 'utf8').replace(/^cafile=.*$/m, '') + '\nfetch-retries=0\n'
    fs.writeFileSync(s.project.userconfig, cfg)
    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(4)
    expect(codes(report)).toContain('ESIFETCH')
    expect(report.violations[0].message).toMatch(/certificate/)
  })
})

describe('safe-install ci: the cache is verified too (SCVS 4.14)', () => {
  function poison (cache: string) {
    const root = path.join(cache, '_safe-install', 'tarballs', 'content-v2')
    const files: string[] = []
    const walk = (d: string) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(path.join(d, e.name)) : files.push(path.join(d, e.name)) }
    walk(root)
    for (const f of files) { fs.chmodSync(f, 0o644); fs.writeFileSync(f, 'poisoned') }
    return files.length
  }
  /** without the extracted store, the tarball must be read (and checked) again */
  function dropExtracted (cache: string) {
    const store = path.join(cache, '_safe-install', 'store')
    // folders only: the files are hard links shared with node_modules
    const walk = (d: string) => { fs.chmodSync(d, 0o755); for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name)) }
    walk(store)
    fs.rmSync(store, { recursive: true })
  }

  it('online: a poisoned cache entry is evicted and fetched again', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }], { dependencies: { leaf: '1.0.0' } })
    expect((await s.si(['ci'])).code).toBe(0)
    expect(poison(s.project.cache)).toBe(1)
    dropExtracted(s.project.cache)
    fs.rmSync(path.join(s.project.dir, 'node_modules'), { recursive: true })
    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(0)
    expect(report.stats.fromNetwork).toBe(1)
    expect(fs.readFileSync(path.join(s.project.dir, 'node_modules/leaf/package.json'), 'utf8')).toMatch(/"leaf"/)
  })

  it('--offline: a poisoned cache entry fails with ESICACHECORRUPT', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }], { dependencies: { leaf: '1.0.0' } })
    expect((await s.si(['ci'])).code).toBe(0)
    const before = snapshotTree(path.join(s.project.dir, 'node_modules'))
    poison(s.project.cache)
    dropExtracted(s.project.cache)
    const { code, report } = await s.siJson(['ci', '--offline'])
    expect(codes(report)).toEqual(['ESICACHECORRUPT'])
    expect(code).toBe(1)
    expect(diffTrees(before, snapshotTree(path.join(s.project.dir, 'node_modules')))).toEqual([])
  })

  it('a warm install takes files from the verified store entries and does not need the tarballs again', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }], { dependencies: { leaf: '1.0.0' } })
    expect((await s.si(['ci'])).code).toBe(0)
    poison(s.project.cache)
    fs.rmSync(path.join(s.project.dir, 'node_modules'), { recursive: true })
    const { code, report } = await s.siJson(['ci', '--offline'])
    expect(code).toBe(0)
    expect(report.stats.fromNetwork).toBe(0)
    expect(fs.readFileSync(path.join(s.project.dir, 'node_modules/leaf/package.json'), 'utf8')).toMatch(/"leaf"/)
  })
})

describe('safe-install ci: hostile tarballs', () => {
  it('refuses an entry with ../ (ESITARPATH), an outward symlink (ESITARLINK) and a ../ bin name (ESIBINPATH)', async () => {
    s = await setup([
      { name: 'dotdot', version: '1.0.0', rawEntries: [{ path: 'package/../../evil.js', type: 'file', content: 'x' }] },
      { name: 'linky', version: '1.0.0', rawEntries: [{ path: 'package/passwd', type: 'symlink', linkpath: '../../../../etc/passwd' }] },
      { name: 'binny', version: '1.0.0', manifest: { bin: { '../../evil': 'cli.js' } }, files: { 'cli.js': '' } },
    ], { dependencies: { dotdot: '1.0.0', linky: '1.0.0', binny: '1.0.0' } })
    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(1)
    expect(codes(report).sort()).toEqual(['ESIBINPATH', 'ESITARLINK', 'ESITARPATH'])
    expect(fs.existsSync(path.join(s.project.dir, 'node_modules'))).toBe(false)
    expect(fs.existsSync(path.join(s.project.root, 'evil.js'))).toBe(false)
  })
})

describe('no-op runs: nothing changed, only advisories are asked again', () => {
  it('verify and install after a ci make one advisory request and say they are up to date', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }, { name: 'keep', version: '1.0.0', manifest: { dependencies: { leaf: '^1.0.0' } } }], { dependencies: { keep: '1.0.0' } })
    expect((await s.si(['ci'])).code).toBe(0)
    for (const cmd of ['verify', 'install']) {
      s.registry.requests.length = 0
      const r = await s.si([cmd])
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`safe-install ${cmd}: up to date: 2 packages`))
      expect(s.registry.requests.map(q => q.method + ' ' + q.path)).toEqual(['POST /-/npm/v1/security/advisories/bulk'])
    }
    // a malware notice published since is still caught on a no-op
    s.registry.setAdvisories({ leaf: [{ id: 1, url: 'https://example.com/a/1', title: 'Malware in leaf', severity: 'critical', vulnerable_versions: '*', cwe: ['CWE-506'] }] })
    const { code, report } = await s.siJson(['verify'])
    expect(code).toBe(7)
    expect(codes(report)).toEqual(['ESIMALWARE'])
  })

  it('a changed lockfile, a touched tree or a changed policy means a full run', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }], { dependencies: { leaf: '1.0.0' } })
    expect((await s.si(['ci'])).code).toBe(0)
    const hidden = path.join(s.project.dir, 'node_modules/.package-lock.json')
    fs.utimesSync(hidden, new Date(), new Date(Date.now() - 5000))
    expect((await s.si(['install'])).stdout).toMatch(/verified and installed/)
    expect((await s.si(['verify', '--signatures', 'require'])).stdout).toMatch(/verified \(nothing written\)/)
    const l = s.lockfile()
    l.packages['node_modules/leaf'].resolved = 'https://attacker.example/leaf/-/leaf-1.0.0.tgz'
    s.writeLockfile(l)
    const { code, report } = await s.siJson(['verify'])
    expect(code).toBe(1)
    expect(codes(report)).toEqual(['ESIFOREIGNHOST'])
  })
})
