// A warm `ci` of a lockfile installed here before: the plan and layout come
// from the cache (no Arborist tree), the earlier verdicts are replayed
// (lib/replay.ts), and the tree on disk is the same, byte for byte. Whatever
// changes the inputs, or a store file changed on disk, is not glossed over.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { diffTrees, snapshotTree } from '../../helpers/tree.js'
import { setup, type Setup } from '../helpers.js'
import { contentStoreRoot, entryDir, knownListing, validListing } from '../../../lib/write/store.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

const SLOW = 60_000

/** node_modules without the install record (it names the time of the run) */
function tree (nm: string): Map<string, string> {
  const t = snapshotTree(nm)
  for (const k of [...t.keys()]) if (k === '.safe-install' || k.startsWith('.safe-install/')) t.delete(k)
  return t
}

function plans (cache: string): string[] {
  const dir = path.join(cache, '_safe-install', 'plans')
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter(f => f.endsWith('.json')) : []
}

describe('warm ci: cached plan and replayed verdicts', { timeout: SLOW }, () => {
  it('gives the same tree as the first ci, without Arborist, the packuments or the tarballs', async () => {
    s = await setup([
      { name: 'leaf', version: '1.0.0', files: { 'index.js': 'module.exports = 1\n' } },
      { name: 'leaf', version: '2.0.0', files: { 'index.js': 'module.exports = 2\n' } },
      { name: '@acme/tool', version: '1.2.3', manifest: { bin: { 'acme-tool': 'cli.js' }, dependencies: { leaf: '^1.0.0' } }, files: { 'cli.js': '#!/usr/bin/env node\n' } },
      { name: 'uses-leaf2', version: '1.0.0', manifest: { dependencies: { leaf: '2.0.0' } } },
    ], { dependencies: { '@acme/tool': '1.2.3', 'uses-leaf2': '1.0.0' } })
    const cache = s.project.cache

    const cold = await s.siJson(['ci'])
    expect(cold.code, cold.stderr).toBe(0)
    expect(cold.report.replayed).toBe(false)
    const first = tree(s.nodeModules)
    expect(first.get('node_modules/.bin/acme-tool') ?? first.get('.bin/acme-tool')).toBe('symlink ../@acme/tool/cli.js')
    expect(plans(cache)).toHaveLength(1)
    // the layout is remembered with a listing of every store entry it uses: a replay reads no entry index on the main thread
    const doc = JSON.parse(fs.readFileSync(path.join(cache, '_safe-install', 'plans', plans(cache)[0]), 'utf8'))
    const used = new Set<string>(doc.layout.files.map((f: any) => f.integrity))
    expect(Object.keys(doc.listings).sort()).toEqual([...used].sort())
    for (const l of Object.values(doc.listings)) expect(validListing(l)).toBe(true)

    fs.rmSync(s.nodeModules, { recursive: true })
    s.registry.requests.length = 0
    const warm = await s.siJson(['ci'])
    expect(warm.code, warm.stderr).toBe(0)
    expect(warm.report.replayed).toBe(true)
    expect(warm.report.stats).toMatchObject({ fetched: 4, fromCache: 4, fromNetwork: 0 })
    expect(diffTrees(first, tree(s.nodeModules))).toEqual([])
    // what can change is asked again (advisories); nothing else is requested
    expect(s.registry.requests.map(r => `${r.method} ${r.path}`).filter(r => !r.endsWith('/-/npm/v1/keys'))).toEqual(['POST /-/npm/v1/security/advisories/bulk'])
    // the plan came from the cache: Arborist's tree was not built
    expect(warm.report.timings.plan).toBeLessThan(cold.report.timings.plan)
    for (const p of warm.report.packages) expect(p.evidence.integritySource).toBe('cache')

    // a store file changed on disk: found before linking, extracted again, reported
    const entries = contentStoreRoot(cache)
    const leafFile = findFile(entries, 'module.exports = 2\n')
    fs.chmodSync(leafFile, 0o644)
    fs.appendFileSync(leafFile, 'tampered()\n')
    fs.rmSync(s.nodeModules, { recursive: true })
    const repaired = await s.siJson(['ci'])
    expect(repaired.code, repaired.stderr).toBe(0)
    expect(repaired.report.replayed).toBe(true)
    // checked on the side thread while the folders were made, before anything was linked
    expect(repaired.report.timings['write:check']).toBeTypeOf('number')
    expect(repaired.report.notes.some((n: any) => n.check === 'write' && /changed on disk/.test(n.message))).toBe(true)
    // the write's note made the record again, after the swap: it says so too
    const record = JSON.parse(fs.readFileSync(path.join(s.nodeModules, '.safe-install', 'record.cdx.json'), 'utf8'))
    expect(record.metadata.properties.some((p: any) => p.name === 'safe-install:note:write' && /changed on disk/.test(p.value))).toBe(true)
    expect(diffTrees(first, tree(s.nodeModules))).toEqual([])
  })

  it('a lockfile with other bytes is planned afresh and not replayed; the tree is the same', async () => {
    s = await setup([
      { name: 'leaf', version: '1.0.0' },
      { name: 'leaf', version: '2.0.0' },
      { name: 'mid', version: '1.0.0', manifest: { dependencies: { leaf: '1.0.0' } } },
    ], { dependencies: { mid: '1.0.0' } })
    expect((await s.siJson(['ci'])).code).toBe(0)
    const first = tree(s.nodeModules)

    // the same content, indented otherwise: npm ci takes it, but it is other input
    const lockPath = path.join(s.project.dir, 'package-lock.json')
    fs.writeFileSync(lockPath, JSON.stringify(s.lockfile(), null, 4) + '\n')
    fs.rmSync(s.nodeModules, { recursive: true })
    const other = await s.siJson(['ci'])
    expect(other.code, other.stderr).toBe(0)
    expect(other.report.replayed).toBe(false)
    expect(diffTrees(first, tree(s.nodeModules))).toEqual([])
    expect(plans(s.project.cache)).toHaveLength(2)

    // a dependency added to package.json only: npm ci's sync rule still applies
    const pkgPath = path.join(s.project.dir, 'package.json')
    const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'))
    pkg.dependencies = { mid: '1.0.0', leaf: '2.0.0' }
    fs.writeFileSync(pkgPath, JSON.stringify(pkg, null, 2))
    const stale = await s.siJson(['ci'])
    expect(stale.code).toBe(2)
    expect(stale.report.error.code).toBe('ESILOCKSYNC')
  })
})

describe('warm ci: remembered listings of the store entries', { timeout: SLOW }, () => {
  it('one that no longer matches its entry is found by the store check: extracted again, the folders made from the listing undone, the tree the same', async () => {
    s = await setup([
      { name: 'leaf', version: '1.0.0', files: { 'index.js': 'module.exports = 1\n', 'lib/a.js': 'a\n' } },
      { name: 'mid', version: '1.0.0', manifest: { dependencies: { leaf: '1.0.0' } } },
    ], { dependencies: { mid: '1.0.0' } })
    expect((await s.siJson(['ci'])).code).toBe(0)
    const first = tree(s.nodeModules)

    // remembered from an extraction with other files (another version of safe-install, say)
    const planPath = path.join(s.project.cache, '_safe-install', 'plans', plans(s.project.cache)[0])
    const doc = JSON.parse(fs.readFileSync(planPath, 'utf8'))
    const leaf = doc.layout.files.find((f: any) => f.location === 'node_modules/leaf').integrity
    const l = doc.listings[leaf]
    doc.listings[leaf] = knownListing({ ...l, paths: [...l.paths, 'ghost/deep/extra.js'], modes: [...l.modes, 0o644] })
    fs.writeFileSync(planPath, JSON.stringify(doc))

    fs.rmSync(s.nodeModules, { recursive: true })
    const r = await s.siJson(['ci'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.report.replayed).toBe(true)
    expect(r.report.notes.some((n: any) => n.check === 'write' && /files differ from the remembered listing/.test(n.message))).toBe(true)
    // no ghost/ folder left behind: the tree is npm's
    expect(diffTrees(first, tree(s.nodeModules))).toEqual([])
  })

  it('an entry whose index is gone is not held: the run verifies afresh instead of replaying', async () => {
    s = await setup([
      { name: 'leaf', version: '1.0.0' },
      { name: 'mid', version: '1.0.0', manifest: { dependencies: { leaf: '1.0.0' } } },
    ], { dependencies: { mid: '1.0.0' } })
    const cold = await s.siJson(['ci'])
    expect(cold.code).toBe(0)
    const first = tree(s.nodeModules)
    const leaf = cold.report.packages.find((p: any) => p.path === 'node_modules/leaf').integrity
    fs.rmSync(path.join(entryDir(contentStoreRoot(s.project.cache), leaf), 'index.json'))

    fs.rmSync(s.nodeModules, { recursive: true })
    const r = await s.siJson(['ci'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.report.replayed).toBe(false)
    expect(diffTrees(first, tree(s.nodeModules))).toEqual([])
  })
})

describe('warm ci: a cached layout that does not match what was verified', { timeout: SLOW }, () => {
  it('is refused with ESIWRITE (exit 6) before anything is written: nothing unverified is installed', async () => {
    s = await setup([
      { name: 'leaf', version: '1.0.0' },
      { name: 'mid', version: '1.0.0', manifest: { dependencies: { leaf: '1.0.0' } } },
    ], { dependencies: { mid: '1.0.0' } })
    expect((await s.siJson(['ci'])).code).toBe(0)
    const before = snapshotTree(s.project.dir)

    // the cached layout says another tarball fills node_modules/leaf
    const [file] = plans(s.project.cache)
    const planPath = path.join(s.project.cache, '_safe-install', 'plans', file)
    const doc = JSON.parse(fs.readFileSync(planPath, 'utf8'))
    const leaf = doc.layout.files.find((f: any) => f.location === 'node_modules/leaf')
    leaf.integrity = `sha512-${Buffer.alloc(64, 7).toString('base64')}`
    fs.writeFileSync(planPath, JSON.stringify(doc))

    const r = await s.siJson(['ci'])
    expect(r.code).toBe(6)
    expect(r.report.error.code).toBe('ESIWRITE')
    expect(r.report.error.message).toMatch(/no verified tarball for node_modules\/leaf/)
    expect(r.report.error.fix).toMatch(/cached layout .* does not match this lockfile: delete it and run again/)
    expect(diffTrees(before, snapshotTree(s.project.dir))).toEqual([])
  })
})

function findFile (dir: string, content: string): string {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) {
      const found = findFile(p, content)
      if (found) return found
    } else if (e.isFile() && fs.readFileSync(p, 'utf8') === content) return p
  }
  return ''
}
