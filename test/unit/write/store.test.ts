// The verified content store: extraction as pacote does it, bins made
// executable, read-only files, the index written last, and changed entries
// detected (even within the same second) and extracted again.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { putVerified } from '../../../lib/fetch/store.js'
import { binTargetsOf, checkClaimedYielding, checkEntryFiles, checkPositions, checkStoredEntries, listingProblems, contentStoreRoot, ensureEntries, entryDir, entryIndex, execMode, firstHash, hasEntry, knownListing, listedEntry, listingDigest, listingOf, repairEntry, storeMode, validListing } from '../../../lib/write/store.js'
import ssri from 'ssri'
import { integrityOf, makeTarball } from '../../fixtures/registry/tarball.js'

const require = createRequire(import.meta.url)
const pacote = require('pacote')

let tmp: string
let root: string
let tarballs: string
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-store-'))
  root = contentStoreRoot(path.join(tmp, 'cache'))
  tarballs = path.join(tmp, 'cache', '_safe-install', 'tarballs')
})
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

const umask = process.umask()
const CRLF = '#!/usr/bin/env node\r\nconsole.log(1)\r\n'

async function publish (files: Parameters<typeof makeTarball>[0], raw: Parameters<typeof makeTarball>[1] = []): Promise<string> {
  const data = makeTarball(files, raw)
  const integrity = integrityOf(data)
  await putVerified(tarballs, `test:${integrity}`, data, integrity)
  return integrity
}

const samplePackage = () => publish({
  'package.json': JSON.stringify({ name: 'sample', version: '1.0.0', bin: { sample: './bin/cli.js', crlf: 'bin/crlf.js', missing: 'nope.js' } }),
  'index.js': 'module.exports = 1\n',
  'bin/cli.js': '#!/usr/bin/env node\n',
  'bin/crlf.js': CRLF,
  'scripts/run.sh': { content: '#!/bin/sh\n', mode: 0o755 },
  'lib/a/b/c.js': 'deep\n',
  '.gitignore': 'x\n',
  'link-out': { type: 'symlink', target: '../../etc/passwd' },
  'node_modules/inner/package.json': JSON.stringify({ name: 'inner', version: '1.0.0', bin: 'run.js' }),
  'node_modules/inner/run.js': '#!/usr/bin/env node\n',
}, [
  { path: 'package/../escape.js', type: 'file', content: 'evil\n' },
  { path: '/abs.js', type: 'file', content: 'evil\n' },
  { path: 'package/hard', type: 'link', linkpath: 'package/index.js' },
  { path: 'package/empty-dir', type: 'directory' },
])

function modeOf (p: string): number { return fs.lstatSync(p).mode & 0o7777 }

describe('content store: entry folders', () => {
  // what the folder name was before the fast path: ssri's pick of the strongest hash
  const viaSsri = (integrity: string) => {
    const parsed: any = ssri.parse(integrity)
    const algorithm = parsed.pickAlgorithm()
    return { algorithm, hex: Buffer.from(parsed[algorithm][0].digest, 'base64').toString('hex') }
  }
  const data = Buffer.from('some bytes')
  const sha512 = ssri.fromData(data, { algorithms: ['sha512'] }).toString()
  const sha1 = ssri.fromData(data, { algorithms: ['sha1'] }).toString()

  it('names the folder from the one hash as ssri does, and from the strongest of several', () => {
    for (const integrity of [sha512, sha1, `${sha1} ${sha512}`, `${sha512}?opt`, ` ${sha512} `]) {
      expect(firstHash(integrity)).toEqual(viaSsri(integrity))
    }
    expect(firstHash(`${sha1} ${sha512}`).algorithm).toBe('sha512')
  })

  it('joins the folder as path.join would, from a root given in any shape', () => {
    const { hex } = firstHash(sha512)
    const parts = ['sha512', hex.slice(0, 2), hex.slice(2, 4), hex.slice(4)]
    for (const r of ['/a/b', '/a/b/', 'rel/../x', '/', root]) {
      expect(entryDir(r, sha512)).toBe(path.join(r, ...parts))
    }
  })

  it('refuses an integrity with no hash in it', () => {
    expect(() => entryDir(root, 'nothing here')).toThrow(/unreadable integrity/)
  })
})

describe('content store: extraction', () => {
  it('extracts like pacote: files only, first path component stripped, nothing outside, .gitignore renamed', async () => {
    const integrity = await samplePackage()
    const { entries, extracted, reused, events } = await ensureEntries(root, tarballs, [integrity])
    expect({ extracted, reused, events }).toEqual({ extracted: 1, reused: 0, events: [] })
    const entry = entries.get(integrity)!
    expect(entry.dir).toBe(entryDir(root, integrity))
    const files = entry.index.files.map(r => r[0]).sort()
    // `/abs.js` loses its root and lands inside the package, as with pacote (the structure check refuses such tarballs anyway)
    expect(files).toEqual([
      '.npmignore', 'abs.js', 'bin/cli.js', 'bin/crlf.js', 'index.js', 'lib/a/b/c.js',
      'node_modules/inner/package.json', 'node_modules/inner/run.js', 'package.json', 'scripts/run.sh',
    ])
    expect(fs.readdirSync(entry.filesDir).sort()).toEqual(['.npmignore', 'abs.js', 'bin', 'index.js', 'lib', 'node_modules', 'package.json', 'scripts'])
    // no symlink, no hard link entry, no empty folder, nothing above the entry
    expect(fs.existsSync(path.join(entry.filesDir, 'link-out'))).toBe(false)
    expect(fs.existsSync(path.join(entry.filesDir, 'hard'))).toBe(false)
    expect(fs.existsSync(path.join(entry.filesDir, 'empty-dir'))).toBe(false)
    expect(fs.readdirSync(path.dirname(entry.dir)).filter(n => !n.startsWith(path.basename(entry.dir)))).toEqual([])
    expect(fs.existsSync(path.join(tmp, 'escape.js'))).toBe(false)
    expect(entry.hasNodeModules).toBe(true)
    expect([...entry.byPath.keys()].sort()).toEqual(files)
    expect(entry.byPath.get('lib/a/b/c.js')).toBe(entry.index.files.find(r => r[0] === 'lib/a/b/c.js'))
  })

  it('gives npm\'s modes, makes bin targets (own and bundled) executable, and every file read-only', async () => {
    const integrity = await samplePackage()
    const entry = (await ensureEntries(root, tarballs, [integrity])).entries.get(integrity)!
    const f = (rel: string) => path.join(entry.filesDir, rel)
    const plain = 0o666 & ~umask
    const exe = execMode()
    expect(modeOf(f('index.js'))).toBe(storeMode(plain))
    expect(modeOf(f('scripts/run.sh'))).toBe(storeMode(0o777 & ~umask)) // executable in the tarball stays so
    expect(modeOf(f('bin/cli.js'))).toBe(storeMode(exe))
    expect(modeOf(f('node_modules/inner/run.js'))).toBe(storeMode(exe))
    for (const row of entry.index.files) expect(modeOf(f(row[0])) & 0o222).toBe(0)
    // the index keeps npm's own mode (what a copy gets) and the mode as extracted for fixed bins
    const row = entry.byPath.get('bin/cli.js')!
    expect(row[4]).toBe(exe)
    expect(row[5]).toEqual([plain, 0])
    expect(entry.byPath.get('index.js')![5]).toBeUndefined()
    // folders stay writable, so an entry can be deleted
    expect(fs.statSync(path.join(entry.filesDir, 'bin')).mode & 0o200).toBe(0o200)
  })

  it('rewrites a CRLF hashbang of a bin as bin-links does, keeping the bytes as extracted in orig/', async () => {
    const integrity = await samplePackage()
    const entry = (await ensureEntries(root, tarballs, [integrity])).entries.get(integrity)!
    expect(fs.readFileSync(path.join(entry.filesDir, 'bin/crlf.js'), 'utf8')).toBe('#!/usr/bin/env node\nconsole.log(1)\r\n')
    expect(fs.readFileSync(path.join(entry.origDir, 'bin/crlf.js'), 'utf8')).toBe(CRLF)
    expect(entry.byPath.get('bin/crlf.js')![5]).toEqual([0o666 & ~umask, 1])
    expect(entry.index.orig.map(r => r[0])).toEqual(['bin/crlf.js'])
  })

  it('writes the index last, with sizes and nanosecond mtimes', async () => {
    const integrity = await samplePackage()
    const entry = (await ensureEntries(root, tarballs, [integrity])).entries.get(integrity)!
    const index = JSON.parse(fs.readFileSync(path.join(entry.dir, 'index.json'), 'utf8'))
    expect(index.integrity).toBe(integrity)
    const indexTime = fs.statSync(path.join(entry.dir, 'index.json'), { bigint: true }).mtimeNs
    for (const [rel, size, mtimeNs] of index.files) {
      const st = fs.statSync(path.join(entry.filesDir, rel), { bigint: true })
      expect(Number(st.size)).toBe(size)
      expect(String(st.mtimeNs)).toBe(mtimeNs)
      expect(BigInt(mtimeNs) <= indexTime).toBe(true)
    }
    expect(checkEntryFiles(entry.dir, index)).toBeUndefined()
  })

  it('matches pacote\'s own extraction: same files, same bytes, same modes (before bin-links)', async () => {
    const integrity = await samplePackage()
    const entry = (await ensureEntries(root, tarballs, [integrity])).entries.get(integrity)!
    const tgz = path.join(tmp, 'sample.tgz')
    // the same bytes from the cacache, extracted by pacote
    const cacache = require('cacache')
    fs.writeFileSync(tgz, await cacache.get.byDigest(tarballs, integrity))
    const dest = path.join(tmp, 'pacote')
    await pacote.extract(`file:${tgz}`, dest, { cache: path.join(tmp, 'pacote-cache') })
    const theirs: Record<string, number> = {}
    const walk = (d: string, rel: string) => {
      for (const x of fs.readdirSync(d, { withFileTypes: true })) {
        const r = rel ? `${rel}/${x.name}` : x.name
        if (x.isDirectory()) walk(path.join(d, x.name), r)
        else theirs[r] = fs.lstatSync(path.join(d, x.name)).mode & 0o7777
      }
    }
    walk(dest, '')
    expect(Object.keys(theirs).sort()).toEqual(entry.index.files.map(r => r[0]).sort())
    for (const row of entry.index.files) {
      const [rel, , , , mode, fix] = row
      // pacote's file: fetcher reads the manifest first and already adds exec bits to bins;
      // reify's name@url fetch does not (bin-links does it afterwards)
      if (fix) expect([fix[0], fix[0] | 0o111], rel).toContain(theirs[rel])
      else expect(mode, rel).toBe(theirs[rel])
      const ours = fs.readFileSync(path.join(fix?.[1] ? entry.origDir : entry.filesDir, rel))
      expect(ours.equals(fs.readFileSync(path.join(dest, rel))), rel).toBe(true)
    }
  })

  it('reads bin targets of the package and its bundled packages', () => {
    const manifests: Record<string, any> = {
      'package.json': { name: 'p', bin: 'cli.js' },
      'node_modules/@s/b/package.json': { name: '@s/b', bin: { x: './x.js', y: '../../escape.js' } },
      'node_modules/c/node_modules/d/package.json': { name: 'd', bin: ['bin/d'] },
      'lib/package.json': { name: 'not-a-package-root', bin: 'no.js' },
    }
    const bins = binTargetsOf(Object.keys(manifests), rel => manifests[rel])
    expect([...bins].sort()).toEqual(['cli.js', 'node_modules/@s/b/escape.js', 'node_modules/@s/b/x.js', 'node_modules/c/node_modules/d/bin/d'])
  })
})

describe('content store: reuse and tampering', () => {
  it('reuses a complete, unchanged entry without reading the tarball', async () => {
    const integrity = await samplePackage()
    await ensureEntries(root, tarballs, [integrity])
    fs.rmSync(tarballs, { recursive: true, force: true })
    const again = await ensureEntries(root, tarballs, [integrity, integrity])
    expect({ extracted: again.extracted, reused: again.reused, events: again.events }).toEqual({ extracted: 0, reused: 1, events: [] })
  })

  it('a file changed within the same second is detected (mtime in ns) and the entry extracted again', async () => {
    const integrity = await samplePackage()
    const entry = (await ensureEntries(root, tarballs, [integrity])).entries.get(integrity)!
    const file = path.join(entry.filesDir, 'index.js')
    const before = fs.statSync(file, { bigint: true })
    // same size, same mode, same second: only the nanoseconds tell
    fs.chmodSync(file, 0o644)
    fs.writeFileSync(file, 'module.exports = 2\n')
    fs.chmodSync(file, Number(before.mode & 0o7777n))
    const sec = Number(before.mtimeNs / 1_000_000_000n)
    const ns = Number(before.mtimeNs % 1_000_000_000n)
    fs.utimesSync(file, sec, sec + (ns > 500_000_000 ? 0.25 : 0.75))
    const after = fs.statSync(file, { bigint: true })
    expect(after.size).toBe(before.size)
    expect(after.mtimeNs / 1_000_000_000n).toBe(before.mtimeNs / 1_000_000_000n)
    expect(after.mtimeNs).not.toBe(before.mtimeNs)

    const again = await ensureEntries(root, tarballs, [integrity])
    expect(again.events).toEqual([{ integrity, kind: 'changed', detail: 'index.js: mtime' }])
    expect(again.extracted).toBe(1)
    expect(fs.readFileSync(path.join(again.entries.get(integrity)!.filesDir, 'index.js'), 'utf8')).toBe('module.exports = 1\n')
    expect((await ensureEntries(root, tarballs, [integrity])).events).toEqual([])
  })

  it('detects a chmod, a deleted file, a replaced file, and an unreadable index', async () => {
    const integrity = await samplePackage()
    const e = (await ensureEntries(root, tarballs, [integrity])).entries.get(integrity)!
    const cases: [string, () => void, string][] = [
      ['chmod', () => fs.chmodSync(path.join(e.filesDir, 'index.js'), 0o644), 'index.js: mode'],
      ['delete', () => fs.rmSync(path.join(e.filesDir, 'lib/a/b/c.js')), 'lib/a/b/c.js: missing'],
      ['replace', () => {
        const p = path.join(e.filesDir, 'package.json')
        const st = fs.statSync(p)
        const text = fs.readFileSync(p)
        fs.rmSync(p)
        fs.writeFileSync(p, text, { mode: st.mode & 0o777 })
        fs.utimesSync(p, st.atime, st.mtime)
      }, 'package.json:'],
      ['index', () => fs.writeFileSync(path.join(e.dir, 'index.json'), '{"v":'), 'index unreadable'],
    ]
    for (const [name, tamper, detail] of cases) {
      tamper()
      const r = await ensureEntries(root, tarballs, [integrity])
      expect(r.events.length, name).toBe(1)
      expect(r.events[0].detail, name).toContain(detail)
      expect(r.extracted, name).toBe(1)
    }
  })

  it('checked elsewhere (a replay\'s side thread): checkStoredEntries finds what ensureEntries would, repairEntry extracts it again', async () => {
    const integrity = await samplePackage()
    const e = (await ensureEntries(root, tarballs, [integrity])).entries.get(integrity)!
    expect(checkStoredEntries(root, [integrity, integrity])).toEqual([])
    fs.chmodSync(path.join(e.filesDir, 'index.js'), 0o644)
    expect(checkStoredEntries(root, [integrity])).toEqual([[integrity, 'changed', 'index.js: mode']])
    // with the files checked elsewhere, ensureEntries takes the entry as it is (the index is still read)
    const unchecked = await ensureEntries(root, tarballs, [integrity], { filesCheckedElsewhere: true })
    expect({ reused: unchecked.reused, events: unchecked.events, fresh: [...unchecked.fresh] }).toEqual({ reused: 1, events: [], fresh: [] })
    const repaired = await repairEntry(root, tarballs, integrity)
    expect(checkEntryFiles(repaired.dir, repaired.index)).toBeUndefined()
    expect(checkStoredEntries(root, [integrity])).toEqual([])
    // an unreadable index is reported; a missing entry is not (ensureEntries extracts it)
    fs.writeFileSync(path.join(repaired.dir, 'index.json'), '{"v":')
    expect(checkStoredEntries(root, [integrity])).toEqual([[integrity, 'bad-index', 'index unreadable']])
    expect(entryIndex(root, integrity)).toBe('bad')
    fs.rmSync(repaired.dir, { recursive: true })
    expect(checkStoredEntries(root, [integrity])).toEqual([])
    expect(entryIndex(root, integrity)).toBe('missing')
    const again = await ensureEntries(root, tarballs, [integrity], { filesCheckedElsewhere: true })
    expect([...again.fresh]).toEqual([integrity])
  })

  it('a listing: the index without its stamps, in columns; its digest names paths, modes and fixes', async () => {
    const integrity = await samplePackage()
    const e = (await ensureEntries(root, tarballs, [integrity])).entries.get(integrity)!
    const l = listingOf(e.index)
    expect(l.paths).toEqual(e.index.files.map(r => r[0]))
    expect(l.modes).toEqual(e.index.files.map(r => r[4]))
    // the bin targets the store made executable, by position, with the mode and orig/ flag of their row
    const fixed = e.index.files.flatMap((r, i) => r[5] ? [[i, r[5][0], r[5][1]]] : [])
    expect(fixed.length).toBeGreaterThan(0)
    expect(l.fixes).toEqual(fixed)
    expect(e.listing).toEqual(l)

    const known = knownListing(l)
    expect(validListing(JSON.parse(JSON.stringify(known)))).toBe(true)
    expect(known.digest).toBe(listingDigest(JSON.parse(JSON.stringify(l))))
    expect(listingDigest({ ...l, paths: [...l.paths, 'extra.js'] })).not.toBe(known.digest)
    expect(listingDigest({ ...l, modes: l.modes.map((m, i) => i === 0 ? m | 0o111 : m) })).not.toBe(known.digest)
    expect(listingDigest({ ...l, fixes: [] })).not.toBe(known.digest)
    for (const bad of [undefined, {}, { ...known, digest: 1 }, { ...known, modes: known.modes.slice(1) }, { ...known, paths: [1, ...known.paths.slice(1)] },
      { ...known, fixes: [[known.paths.length, 0o755, 0]] }, { ...known, fixes: [[0, 0o755, 2]] }]) {
      expect(validListing(bad)).toBe(false)
    }

    // a listed entry reads nothing: the same folders as the entry's
    const listed = listedEntry(root, integrity, l)
    expect({ dir: listed.dir, filesDir: listed.filesDir, origDir: listed.origDir }).toEqual({ dir: e.dir, filesDir: e.filesDir, origDir: e.origDir })
    expect(hasEntry(root, integrity)).toBe(true)
    fs.rmSync(path.join(e.dir, 'index.json'))
    expect(hasEntry(root, integrity)).toBe(false)
  })

  it('checked against a remembered listing: a missing index, or one with other files, is reported too', async () => {
    const integrity = await samplePackage()
    const e = (await ensureEntries(root, tarballs, [integrity])).entries.get(integrity)!
    const known = knownListing(e.listing)
    const against = (digest: string) => {
      const checked = checkPositions(root, [integrity], [0])
      return [...checked.problems, ...listingProblems(checked, new Map([[integrity, { digest }]]))]
    }
    expect(against(known.digest)).toEqual([])
    // remembered from an entry that had other files (another extraction): the entry is not what was listed
    const other = knownListing({ ...e.listing, paths: [...e.listing.paths.slice(0, -1), 'renamed.js'] })
    expect(against(other.digest)).toEqual([[integrity, 'changed', 'files differ from the remembered listing']])
    // a changed file is still reported as such, once
    fs.chmodSync(path.join(e.filesDir, 'index.js'), 0o644)
    expect(against(known.digest)).toEqual([[integrity, 'changed', 'index.js: mode']])
    // without its index the entry is gone: unlike an entry nobody listed, that is reported
    fs.rmSync(path.join(e.dir, 'index.json'))
    expect(checkStoredEntries(root, [integrity])).toEqual([])
    expect(against(known.digest)).toEqual([[integrity, 'changed', 'index.json: missing']])
  })

  it('two threads sharing a check claim positions from one counter; positions left unreported are checked by position', async () => {
    const a = await samplePackage()
    const b = await publish({ 'package.json': JSON.stringify({ name: 'b', version: '1.0.0' }), 'index.js': 'b\n' })
    const gone = await publish({ 'package.json': JSON.stringify({ name: 'gone', version: '1.0.0' }) })
    const list = [a, b, gone]
    const { entries } = await ensureEntries(root, tarballs, list)
    fs.rmSync(path.join(entries.get(gone)!.dir, 'index.json'))
    fs.chmodSync(path.join(entries.get(b)!.filesDir, 'index.js'), 0o600)

    const claim = new Int32Array(new SharedArrayBuffer(4))
    Atomics.store(claim, 0, 1) // position 0 taken by a thread that never reported
    const checked = await checkClaimedYielding(root, list, claim)
    expect(checked.done).toEqual([1, 2])
    expect(checked.problems).toEqual([[b, 'changed', 'index.js: mode']])
    // a missing entry is no problem of its own, and has no digest
    expect(checked.digests).toEqual({})
    // the counter is spent: a second taker finds nothing
    expect((await checkClaimedYielding(root, list, claim)).done).toEqual([])
    const rest = checkPositions(root, list, [0])
    expect(rest).toEqual({ problems: [], digests: { [a]: knownListing(entries.get(a)!.listing).digest }, done: [0] })

    // the side thread's loop lets its other work in between entries, and finds what the plain loop finds
    const again = new Int32Array(new SharedArrayBuffer(4))
    let other = false
    setImmediate(() => { other = true })
    const yielding = checkClaimedYielding(root, list, again, 1)
    expect(other).toBe(false)
    expect(await yielding).toEqual({ problems: checked.problems, digests: rest.digests, done: [0, 1, 2] })
    expect(other).toBe(true)

    // against remembered listings: the missing entry and a listing of other files are problems; a reported entry is not reported twice
    const digests = { ...checked.digests, ...rest.digests }
    const merged = { problems: checked.problems, digests, done: [0, 1, 2] }
    expect(listingProblems(merged, new Map([[a, { digest: digests[a] }], [b, { digest: 'whatever' }], [gone, { digest: 'x' }]]))).toEqual([[gone, 'changed', 'index.json: missing']])
    expect(listingProblems(merged, new Map([[a, { digest: 'other' }]]))).toEqual([[a, 'changed', 'files differ from the remembered listing']])
  })

  it('an entry without its index is incomplete: extracted again, silently', async () => {
    const integrity = await samplePackage()
    const e = (await ensureEntries(root, tarballs, [integrity])).entries.get(integrity)!
    fs.rmSync(path.join(e.dir, 'index.json'))
    const r = await ensureEntries(root, tarballs, [integrity])
    expect({ extracted: r.extracted, events: r.events }).toEqual({ extracted: 1, events: [] })
    expect(fs.existsSync(path.join(e.dir, 'index.json'))).toBe(true)
  })

  it('clears half-built copies left by a process that died mid-extraction', async () => {
    const integrity = await samplePackage()
    const dir = entryDir(root, integrity)
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString())
    fs.mkdirSync(`${dir}.tmp-${dead}-0a1b2c3d/package`, { recursive: true })
    fs.writeFileSync(`${dir}.tmp-${dead}-0a1b2c3d/package/index.js`, 'half\n')
    await ensureEntries(root, tarballs, [integrity])
    expect(fs.readdirSync(path.dirname(dir))).toEqual([path.basename(dir)])
  })

  it('extracts many entries concurrently', async () => {
    const list: string[] = []
    for (let i = 0; i < 12; i++) list.push(await publish({ 'package.json': JSON.stringify({ name: `p${i}`, version: '1.0.0' }), 'i.js': String(i) }))
    const r = await ensureEntries(root, tarballs, list, { concurrency: 4 })
    expect(r.extracted).toBe(12)
    for (const [i, integrity] of list.entries()) expect(fs.readFileSync(path.join(r.entries.get(integrity)!.filesDir, 'i.js'), 'utf8')).toBe(String(i))
  })

  it('refuses tarball bytes that no longer match their integrity', async () => {
    const integrity = await samplePackage()
    // corrupt the cacache content file
    const content = path.join(tarballs, 'content-v2')
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap(x => x.isDirectory() ? walk(path.join(d, x.name)) : [path.join(d, x.name)])
    for (const f of walk(content)) { fs.chmodSync(f, 0o644); fs.appendFileSync(f, 'x') }
    await expect(ensureEntries(root, tarballs, [integrity])).rejects.toMatchObject({ code: 'ESIWRITE' })
    expect(fs.existsSync(entryDir(root, integrity))).toBe(false)
  })
})
