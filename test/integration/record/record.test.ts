// The install record (SCVS 4.11/4.19) as the real CLI writes it: a CycloneDX
// document that validates, with one component per lockfile entry carrying
// the lockfile's hash and the evidence the --json report states.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { PublishSpec } from '../../fixtures/registry/index.js'
import { lock } from '../../helpers/project.js'
import { codes, setup, type Setup } from '../helpers.js'
import { allComponents, componentAt, expectValid, prop, props, readRecord, recordPath, sha512Hex, type Json } from './helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

const INNER_PKG = JSON.stringify({ name: 'inner', version: '1.0.0', main: 'index.js' }, null, 2) + '\n'

/** plain, scoped, aliased, bundled, dev, optional, and a workspace */
const MIXED: PublishSpec[] = [
  { name: 'leaf', version: '1.0.0', manifest: { license: 'MIT' }, files: { 'index.js': 'module.exports = 1\n' } },
  { name: '@acme/scoped', version: '1.0.0', manifest: { license: 'Apache-2.0' } },
  { name: 'inner', version: '1.0.0' },
  {
    name: 'bundler',
    version: '1.0.0',
    manifest: { dependencies: { inner: '1.0.0' }, bundleDependencies: ['inner'] },
    files: {
      'index.js': 'module.exports = require("inner")\n',
      'node_modules/inner/package.json': INNER_PKG,
      // code shipped inside the parent's tarball: the parent's scan must see it
      'node_modules/inner/index.js': 'module.exports = require("child_process").execSync("id").toString()\n',
    },
  },
  { name: 'devonly', version: '1.0.0' },
  { name: 'opt', version: '1.0.0' },
]

const MIXED_PROJECT = {
  dependencies: { leaf: '1.0.0', '@acme/scoped': '1.0.0', x: 'npm:leaf@1.0.0', bundler: '1.0.0' },
  devDependencies: { devonly: '1.0.0' },
  optionalDependencies: { opt: '1.0.0' },
  workspaces: { 'packages/ws': { name: 'ws', dependencies: { leaf: '1.0.0' } } },
}

/** every lockfile key but the root */
function lockKeys (lockfile: Json): string[] {
  return Object.keys(lockfile.packages).filter(k => k !== '')
}

/** the record says what the --json report says, package by package */
function expectRecordMatchesReport (doc: Json, report: Json): void {
  for (const p of report.packages) {
    const c = componentAt(doc, p.path)
    expect(c.version, p.path).toBe(p.version)
    const ev = p.evidence
    expect(prop(c, 'safe-install:integrity-source'), p.path).toBe(ev?.integritySource ?? 'not-checked')
    expect(prop(c, 'safe-install:signature'), p.path).toBe(ev?.signature?.status ?? 'not-checked')
    if (ev?.signature?.keyid) expect(prop(c, 'safe-install:signature:keyid')).toBe(ev.signature.keyid)
    expect(prop(c, 'safe-install:provenance'), p.path).toBe(ev?.provenance?.status ?? 'not-checked')
    expect(prop(c, 'safe-install:release-age'), p.path).toBe(ev?.releaseAge?.status ?? 'not-checked')
    expect(prop(c, 'safe-install:source'), p.path).toBe(p.source)
    expect(prop(c, 'cdx:npm:package:bundled'), p.path).toBe(String(p.bundled))
    expect(prop(c, 'cdx:npm:package:development'), p.path).toBe(String(p.dev))
    expect(prop(c, 'cdx:npm:package:optional'), p.path).toBe(String(p.optional))
    if (ev?.scan) {
      const caps = [...new Set<string>(ev.scan.capabilities)].sort()
      expect(prop(c, 'safe-install:scan:capabilities'), p.path).toBe(caps.length ? caps.join(',') : 'none')
    }
    if (ev?.advisories) {
      expect(prop(c, 'safe-install:advisories'), p.path).toBe(ev.advisories.length ? ev.advisories.map((a: any) => a.id).sort().join(',') : 'none')
    }
    // every check either has a result or says why not
    for (const check of ['signature', 'provenance', 'identity', 'trust', 'release-age', 'scan:capabilities', 'advisories']) {
      if (prop(c, `safe-install:${check}`) === 'not-checked') {
        const reason = check === 'scan:capabilities' ? 'scan:reason' : `${check}:reason`
        expect(prop(c, `safe-install:${reason}`), `${p.path} ${check}`).toBeTruthy()
      }
    }
  }
}

describe('the install record of a ci', () => {
  it('validates as CycloneDX 1.6, has exactly one component per lockfile entry with its SHA-512, and states the report\'s evidence', async () => {
    s = await setup(MIXED, MIXED_PROJECT)
    const lockfile = s.lockfile()
    // the lockfile npm wrote has every kind we want to see recorded
    expect(lockfile.packages['node_modules/x'].name).toBe('leaf')
    expect(lockfile.packages['node_modules/bundler/node_modules/inner'].inBundle).toBe(true)
    expect(lockfile.packages['node_modules/devonly'].dev).toBe(true)
    expect(lockfile.packages['node_modules/opt'].optional).toBe(true)
    expect(lockfile.packages['node_modules/ws'].link).toBe(true)

    const first = await s.siJson(['ci'])
    expect(first.code).toBe(0)
    expect(first.report.record.written).toEqual([recordPath(s.project.dir)])
    const { text, doc } = readRecord(recordPath(s.project.dir))
    await expectValid(text, '1.6')

    // one component per lockfile entry (no more: plus nothing but what the lockfile lists)
    const keys = lockKeys(lockfile)
    const paths = allComponents(doc).map(c => prop(c, 'cdx:npm:package:path'))
    expect([...paths].sort()).toEqual([...keys].sort())
    const refs = allComponents(doc).map(c => c['bom-ref'])
    expect(new Set(refs).size).toBe(refs.length)
    for (const key of keys) {
      const c = componentAt(doc, key)
      const entry = lockfile.packages[key]
      if (entry.integrity) {
        expect(c.hashes, key).toEqual([{ alg: 'SHA-512', content: sha512Hex(entry.integrity) }])
        expect(prop(c, 'safe-install:integrity'), key).toBe(entry.integrity)
      } else {
        expect(c.hashes, key).toBeUndefined()
      }
    }

    // plain, scoped, alias
    expect(componentAt(doc, 'node_modules/leaf')).toMatchObject({ name: 'leaf', version: '1.0.0', scope: 'required' })
    expect(componentAt(doc, 'node_modules/leaf').purl).toMatch(/^pkg:npm\/leaf@1\.0\.0\?repository_url=/)
    expect(componentAt(doc, 'node_modules/leaf').licenses).toEqual([{ license: { id: 'MIT' } }])
    expect(componentAt(doc, 'node_modules/@acme/scoped')).toMatchObject({ group: '@acme', name: 'scoped' })
    expect(componentAt(doc, 'node_modules/@acme/scoped').purl).toMatch(/^pkg:npm\/%40acme\/scoped@1\.0\.0/)
    const alias = componentAt(doc, 'node_modules/x')
    expect(alias).toMatchObject({ name: 'leaf', version: '1.0.0' })
    expect(prop(alias, 'safe-install:install-name')).toBe('x')
    expect(alias.hashes).toEqual(componentAt(doc, 'node_modules/leaf').hashes)
    // dev and optional
    expect(componentAt(doc, 'node_modules/devonly').scope).toBe('optional')
    expect(prop(componentAt(doc, 'node_modules/devonly'), 'cdx:npm:package:development')).toBe('true')
    expect(componentAt(doc, 'node_modules/opt').scope).toBe('optional')
    expect(prop(componentAt(doc, 'node_modules/opt'), 'cdx:npm:package:optional')).toBe('true')
    // the workspace: its folder and its link, both local, neither claims a fetch
    const ws = componentAt(doc, 'packages/ws')
    expect(prop(ws, 'safe-install:workspace')).toBe('true')
    expect(prop(componentAt(doc, 'node_modules/ws'), 'safe-install:integrity-source')).toBe('link')

    // bundled: no hash of its own (the lockfile has none), said to be covered by its parent
    const inner = componentAt(doc, 'node_modules/bundler/node_modules/inner')
    const bundler = componentAt(doc, 'node_modules/bundler')
    expect(inner.hashes).toBeUndefined()
    expect(prop(inner, 'cdx:npm:package:bundled')).toBe('true')
    expect(prop(inner, 'safe-install:integrity-source')).toBe('bundled')
    expect(prop(inner, 'safe-install:integrity')).toBe('missing')
    expect(prop(inner, 'safe-install:signature')).toBe('not-checked')
    expect(prop(inner, 'safe-install:signature:reason')).toMatch(/bundled inside its parent's tarball/)
    expect(bundler.hashes).toEqual([{ alg: 'SHA-512', content: sha512Hex(lockfile.packages['node_modules/bundler'].integrity) }])
    expect(doc.dependencies.find((d: Json) => d.ref === 'node_modules/bundler').dependsOn).toContain('node_modules/bundler/node_modules/inner')
    // the bundled code was scanned as part of its parent's tarball
    expect(prop(bundler, 'safe-install:scan:capabilities')).toContain('child_process')
    expect(props(bundler).get('safe-install:scan:finding')!.join('\n')).toMatch(/child_process node_modules\/inner\/index\.js:1/)
    expect(fs.existsSync(path.join(s.project.dir, 'node_modules/bundler/node_modules/inner/index.js'))).toBe(true)
    // the bundled package is audited too
    expect(prop(inner, 'safe-install:advisories')).toBe('none')

    // the root and its graph
    const rootRef = doc.metadata.component['bom-ref']
    expect(doc.metadata.component.name).toBe('fixture-project')
    const rootDeps = doc.dependencies.find((d: Json) => d.ref === rootRef).dependsOn
    for (const k of ['node_modules/leaf', 'node_modules/x', 'node_modules/@acme/scoped', 'node_modules/bundler', 'node_modules/devonly', 'node_modules/opt']) {
      expect(rootDeps).toContain(k)
    }

    // evidence as the --json report states it
    expectRecordMatchesReport(doc, first.report)
    const fetchedFirst = first.report.packages.filter((p: any) => p.source === 'registry' && !p.bundled)
    expect(fetchedFirst.length).toBe(6)
    for (const p of fetchedFirst) {
      expect(prop(componentAt(doc, p.path), 'safe-install:signature'), p.path).toBe('verified')
      expect(['network', 'cache']).toContain(prop(componentAt(doc, p.path), 'safe-install:integrity-source'))
    }
    // nothing was in safe-install's store before: those npm did not fetch while locking came from the network
    for (const loc of ['node_modules/leaf', 'node_modules/@acme/scoped', 'node_modules/devonly', 'node_modules/opt']) {
      expect(prop(componentAt(doc, loc), 'safe-install:integrity-source'), loc).toBe('network')
    }
    expect(doc.metadata.properties.find((p: Json) => p.name === 'safe-install:command').value).toMatch(/^safe-install ci /)

    // a second run: everything from the verified cache, and the record says so
    const second = await s.siJson(['ci'])
    expect(second.code).toBe(0)
    expect(second.report.stats.fromCache).toBe(second.report.stats.fetched)
    const again = readRecord(recordPath(s.project.dir))
    await expectValid(again.text, '1.6')
    expectRecordMatchesReport(again.doc, second.report)
    for (const p of fetchedFirst) {
      expect(prop(componentAt(again.doc, p.path), 'safe-install:integrity-source'), p.path).toBe('cache')
      expect(prop(componentAt(again.doc, p.path), 'safe-install:signature'), p.path).toBe('verified')
    }
    expect(again.doc.serialNumber).not.toBe(doc.serialNumber)
    // the same install again: no changes reported
    expect(second.report.record.diff).toEqual({ added: [], removed: [], changed: [], evidenceChanged: [], capabilitiesGained: [] })
  })

  it('--record-spec 1.7 --record <file> writes a valid 1.7 record there and in node_modules', async () => {
    s = await setup(MIXED, MIXED_PROJECT)
    const out = path.join(s.project.root, 'records', 'install-1.7.json')
    const r = await s.si(['ci', '--record-spec', '1.7', '--record', out])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`record: ${recordPath(s.project.dir)}, ${out}`)
    const copy = readRecord(out)
    await expectValid(copy.text, '1.7')
    const main = readRecord(recordPath(s.project.dir))
    await expectValid(main.text, '1.7')
    expect(copy.text).toBe(main.text)
    const keys = lockKeys(s.lockfile())
    for (const key of keys) componentAt(copy.doc, key)
    expect(allComponents(copy.doc)).toHaveLength(keys.length)
  })
})

describe('what the record covers', () => {
  it('with --omit=dev, exactly what was installed: no component for the omitted package', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }, { name: 'devonly', version: '1.0.0' }], {
      dependencies: { leaf: '1.0.0' },
      devDependencies: { devonly: '1.0.0' },
    })
    const r = await s.siJson(['ci', '--omit=dev'])
    expect(r.code, r.stderr).toBe(0)
    expect(fs.existsSync(path.join(s.project.dir, 'node_modules/devonly'))).toBe(false)
    const { text, doc } = readRecord(recordPath(s.project.dir))
    await expectValid(text, '1.6')
    expect(allComponents(doc).map(c => c['bom-ref'])).toEqual(['node_modules/leaf'])
    expect(doc.metadata.properties).toContainEqual({ name: 'safe-install:omit', value: 'dev' })
  })

  it('a workspace link points at its workspace folder in the dependency graph', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }], {
      workspaces: { 'packages/ws': { name: 'ws', dependencies: { leaf: '1.0.0' } } },
    })
    expect(s.lockfile().packages['node_modules/ws']).toEqual({ resolved: 'packages/ws', link: true })
    const r = await s.siJson(['ci'])
    expect(r.code, r.stderr).toBe(0)
    const { doc } = readRecord(recordPath(s.project.dir))
    const graph = new Map<string, string[]>(doc.dependencies.map((d: Json) => [d.ref, d.dependsOn ?? []]))
    expect(graph.get('packages/ws')).toEqual(['node_modules/leaf'])
    // the link component depends on the folder it links to (as lockfile `"resolved": "packages/ws"` says)
    expect(graph.get('node_modules/ws')).toContain('packages/ws')
  })
})

describe('where the record goes', () => {
  it('--record out.json writes a copy (relative to the working folder); --no-record writes none', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }], { dependencies: { leaf: '1.0.0' } })
    const { code, report } = await s.siJson(['ci', '--record', 'out.json'])
    expect(code).toBe(0)
    const copy = path.join(s.project.dir, 'out.json')
    expect(report.record.written).toEqual([recordPath(s.project.dir), copy])
    expect(fs.readFileSync(copy, 'utf8')).toBe(fs.readFileSync(recordPath(s.project.dir), 'utf8'))
    // the record came in with the staged tree: nothing of the staging, no temporary file, left behind
    expect(fs.readdirSync(s.project.dir).filter(n => n.includes('staging'))).toEqual([])
    expect(fs.readdirSync(path.dirname(recordPath(s.project.dir)))).toEqual(['record.cdx.json'])
    await expectValid(fs.readFileSync(copy, 'utf8'), '1.6')
    fs.rmSync(copy)

    // --no-record: nothing written, and no stale record left describing the old tree
    const none = await s.siJson(['ci', '--no-record'])
    expect(none.code).toBe(0)
    expect(none.report.record.written).toEqual([])
    expect(fs.existsSync(path.join(s.project.dir, 'node_modules/leaf/package.json'))).toBe(true)
    expect(fs.existsSync(recordPath(s.project.dir))).toBe(false)
    expect(fs.existsSync(copy)).toBe(false)

    // and on a fresh tree
    fs.rmSync(path.join(s.project.dir, 'node_modules'), { recursive: true })
    const human = await s.si(['ci', '--no-record'])
    expect(human.code).toBe(0)
    expect(human.stdout).not.toMatch(/record:/)
    expect(fs.existsSync(path.join(s.project.dir, 'node_modules/leaf/package.json'))).toBe(true)
    expect(fs.existsSync(path.join(s.project.dir, 'node_modules/.safe-install'))).toBe(false)
  })

  it('verify writes no record in node_modules, but does write --record <file>', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }], { dependencies: { leaf: '1.0.0' } })
    const out = path.join(s.project.root, 'verify-record.json')
    const { code, report } = await s.siJson(['verify', '--record', out])
    expect(code).toBe(0)
    expect(report.record.written).toEqual([out])
    expect(fs.existsSync(path.join(s.project.dir, 'node_modules'))).toBe(false)
    await expectValid(fs.readFileSync(out, 'utf8'), '1.6')
  })

  it('a refused install (tampered tarball) leaves the previous record byte-identical', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }, { name: 'fresh', version: '1.0.0' }], { dependencies: { leaf: '1.0.0' } })
    expect((await s.si(['ci'])).code).toBe(0)
    const before = fs.readFileSync(recordPath(s.project.dir))
    const extra = path.join(s.project.root, 'extra.json')

    // the lockfile now also wants fresh@1.0.0, whose bytes the registry swaps
    const pj = path.join(s.project.dir, 'package.json')
    const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'))
    pkg.dependencies.fresh = '1.0.0'
    fs.writeFileSync(pj, JSON.stringify(pkg, null, 2))
    await lock(s.project.dir, s.project.userconfig, s.project.cache)
    s.registry.tamperTarball('fresh', '1.0.0')
    // npm's own cache (shared via cache=) must not hold the good bytes
    fs.rmSync(s.project.cache, { recursive: true, force: true })
    fs.mkdirSync(s.project.cache)

    const { code, report } = await s.siJson(['ci', '--record', extra])
    expect(codes(report)).toContain('ESIINTEGRITY')
    expect(code).toBe(1)
    expect(fs.readFileSync(recordPath(s.project.dir)).equals(before)).toBe(true)
    expect(fs.existsSync(extra)).toBe(false)
    // no temp files left next to it
    expect(fs.readdirSync(path.dirname(recordPath(s.project.dir)))).toEqual(['record.cdx.json'])
  })
})

describe('what changed since the last install', () => {
  const LEAF_2 = `const { execSync } = require('child_process')\nmodule.exports = () => execSync('uname').toString()\n`

  async function installedThenUpdated (): Promise<{ oldRecord: string, newRecord: string, human: string, json?: Json }> {
    s = await setup([
      { name: 'leaf', version: '1.0.0', files: { 'index.js': 'module.exports = 1\n' } },
      // the update gains an install script and spawns processes
      { name: 'leaf', version: '1.1.0', manifest: { scripts: { postinstall: 'node setup.js' } }, files: { 'index.js': LEAF_2, 'setup.js': 'console.log("hi")\n' } },
      { name: 'gone', version: '1.0.0' },
      { name: 'added', version: '1.0.0' },
    ], { dependencies: { leaf: '1.0.0', gone: '1.0.0' } })
    expect((await s.si(['ci'])).code).toBe(0)
    const oldRecord = path.join(s.project.root, 'old.cdx.json')
    fs.copyFileSync(recordPath(s.project.dir), oldRecord)

    const pj = path.join(s.project.dir, 'package.json')
    const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'))
    pkg.dependencies = { leaf: '1.1.0', added: '1.0.0' }
    fs.writeFileSync(pj, JSON.stringify(pkg, null, 2))
    await lock(s.project.dir, s.project.userconfig, s.project.cache)
    expect(s.lockfile().packages['node_modules/leaf'].version).toBe('1.1.0')

    const r = await s.si(['ci'])
    expect(r.code).toBe(0)
    const newRecord = path.join(s.project.root, 'new.cdx.json')
    fs.copyFileSync(recordPath(s.project.dir), newRecord)
    return { oldRecord, newRecord, human: r.stdout }
  }

  it('after an update, ci names the version change, the scripts gained and the capabilities gained; `diff` says the same', async () => {
    const { oldRecord, newRecord, human } = await installedThenUpdated()
    // the install output
    expect(human).toMatch(/since the last install: 1 added, 1 removed, 1 updated/)
    expect(human).toMatch(/~ leaf 1\.0\.0 -> 1\.1\.0 {2}node_modules\/leaf/)
    expect(human).toMatch(/\+ added@1\.0\.0 {2}node_modules\/added/)
    expect(human).toMatch(/- gone@1\.0\.0 {2}node_modules\/gone/)
    expect(human).toMatch(/! leaf scripts: none -> postinstall {2}node_modules\/leaf/)
    expect(human).toMatch(/! leaf gained capabilities: [^\n]*child_process/)
    expect(human).toMatch(/! leaf gained capabilities: [^\n]*install-scripts/)
    // the skipped script is listed as well
    expect(human).toMatch(/leaf@1\.1\.0: postinstall/)

    // `safe-install diff old new`, human
    const d = await s!.si(['diff', oldRecord, newRecord])
    expect(d.code).toBe(0)
    expect(d.stdout).toMatch(/~ leaf 1\.0\.0 -> 1\.1\.0/)
    expect(d.stdout).toMatch(/! leaf scripts: none -> postinstall/)
    expect(d.stdout).toMatch(/! leaf gained capabilities: [^\n]*child_process/)
    expect(d.stdout).toMatch(/\+ added@1\.0\.0/)
    expect(d.stdout).toMatch(/- gone@1\.0\.0/)

    // and --json
    const dj = await s!.siJson(['diff', oldRecord, newRecord])
    expect(dj.code).toBe(0)
    const diff = dj.report
    expect(diff.changed).toEqual([{ name: 'leaf', path: 'node_modules/leaf', from: '1.0.0', to: '1.1.0' }])
    expect(diff.added).toEqual([{ name: 'added', path: 'node_modules/added', version: '1.0.0' }])
    expect(diff.removed).toEqual([{ name: 'gone', path: 'node_modules/gone', version: '1.0.0' }])
    expect(diff.evidenceChanged).toContainEqual({ name: 'leaf', path: 'node_modules/leaf', field: 'scripts', from: 'none', to: 'postinstall' })
    expect(diff.capabilitiesGained).toHaveLength(1)
    expect(diff.capabilitiesGained[0]).toMatchObject({ name: 'leaf', path: 'node_modules/leaf' })
    expect(diff.capabilitiesGained[0].capabilities).toEqual(expect.arrayContaining(['child_process', 'install-scripts']))

    // reversed: nothing gained, the version goes back
    const back = await s!.siJson(['diff', newRecord, oldRecord])
    expect(back.report.changed).toEqual([{ name: 'leaf', path: 'node_modules/leaf', from: '1.1.0', to: '1.0.0' }])
    expect(back.report.capabilitiesGained).toEqual([])

    // the same record twice
    const same = await s!.si(['diff', newRecord, newRecord])
    expect(same.code).toBe(0)
    expect(same.stdout.trim()).toBe('no changes since the last install')
  })

  it('diff refuses what is not a record', async () => {
    s = await setup([{ name: 'leaf', version: '1.0.0' }], { dependencies: { leaf: '1.0.0' } })
    expect((await s.si(['ci'])).code).toBe(0)
    const notJson = path.join(s.project.root, 'nope.json')
    fs.writeFileSync(notJson, '{"hello": "world"}')
    const r = await s.si(['diff', recordPath(s.project.dir), notJson])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/ESIBADJSON/)
    const missing = await s.si(['diff', recordPath(s.project.dir), path.join(s.project.root, 'missing.json')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/ESIUSAGE[^\n]*no record at/)
  })
})
