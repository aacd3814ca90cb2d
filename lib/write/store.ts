// The verified content store: every verified tarball extracted once, as
// npm would extract it, into <cache>/_safe-install/store/v1/<algo>/<hex path>/,
// so node_modules files can be hard links (or clones) of it.
//
// An entry is a folder:
//   package/     the package files: pacote's extraction (strip the first
//                path component, no links, no absolute or `..` paths, files
//                only, npm's modes, mtimes left to extraction time), with the
//                package's (and its bundled packages') bin targets made
//                executable as bin-links would, then every file made read-only
//   orig/        the few bin targets bin-links rewrote (CRLF hashbang), as
//                extracted, for an install where that bin does not get linked
//   index.json   written last: every file with size, mtime (ns), inode and
//                mode. No index, no entry.
// Entries are built in a temporary folder and renamed into place, so an
// entry is either complete or absent. Before an entry is reused every file is
// checked against the index; a changed entry is deleted and extracted again
// from the verified tarball (and the event reported). Bytes only ever come
// from safe-install's verified tarball store, through cacache, which checks
// them against the integrity on every read.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import ssri from 'ssri'
import { SafeInstallError } from '../errors.js'
import { mapLimit, turn } from '../fetch/pool.js'
import { readVerified } from '../fetch/store.js'
import { processAlive } from './alive.js'

const require = createRequire(import.meta.url)
const normalizeBin: (pkg: Record<string, any>) => Record<string, any> = require('npm-normalize-package-bin')
// loaded on first extraction: a replayed ci extracts nothing
let tarModule: typeof import('tar') | undefined
const tar = (): typeof import('tar') => (tarModule ??= require('tar'))

export const STORE_VERSION = 1
const INDEX = 'index.json'
const FILES = 'package'
const ORIG = 'orig'

/** `<cache>/_safe-install/store/v1` */
export function contentStoreRoot (cache: string): string {
  return path.join(cache, '_safe-install', 'store', `v${STORE_VERSION}`)
}

/**
 * One file of an entry: [path (posix, relative to package/), size,
 * mtimeNs, inode, mode, fix?]. `mode` is the mode npm gives the file (what a
 * copy gets); the store file itself has `mode & ~0o222`. `fix` is set for a
 * bin target the store made executable: [mode as extracted, 1 if orig/ holds
 * the bytes as extracted].
 */
export type FileRow = [string, number, string, string, number, ([number, 0 | 1])?]

export interface StoreIndex {
  v: number
  integrity: string
  /** the umask the entry was extracted with (npm's modes depend on it) */
  umask: number
  files: FileRow[]
  /** rows for orig/ */
  orig: FileRow[]
}

/**
 * What linking an entry's files needs of its index, without the stamps:
 * the paths (posix, relative to package/), each file's npm mode, and the
 * bin targets the store fixed, as [position in paths, mode as extracted,
 * 1 if orig/ holds the bytes as extracted]. Columns, so that a remembered
 * listing parses fast.
 */
export interface Listing {
  readonly paths: readonly string[]
  readonly modes: readonly number[]
  readonly fixes: ReadonlyArray<readonly [number, number, 0 | 1]>
}

/** A listing with the digest the store check compares against the entry's own index. */
export interface KnownListing extends Listing {
  readonly digest: string
}

/** An entry's folders and files, as far as linking them goes. */
export interface EntryFiles {
  readonly integrity: string
  /** entry folder */
  readonly dir: string
  /** the package files (`<dir>/package`) */
  readonly filesDir: string
  /** `<dir>/orig` */
  readonly origDir: string
  readonly listing: Listing
}

export interface StoreEntry extends EntryFiles {
  readonly index: StoreIndex
  /** path -> row */
  readonly byPath: ReadonlyMap<string, FileRow>
  /** true when some files live under a `node_modules/` folder (bundled dependencies) */
  readonly hasNodeModules: boolean
}

export interface StoreEvent {
  readonly integrity: string
  readonly kind: 'changed' | 'bad-index'
  /** what differed, e.g. `lib/index.js: mtime` */
  readonly detail: string
}

export interface EnsureResult {
  entries: Map<string, StoreEntry>
  /** entries found changed or unreadable, deleted and extracted again */
  events: StoreEvent[]
  /** how many entries were extracted in this call */
  extracted: number
  /** how many were reused after checking */
  reused: number
  /** the integrities extracted in this call */
  fresh: Set<string>
}

/**
 * The index of a complete entry (the index is written last), or why there is
 * none; its files are checked before use all the same.
 */
export function entryIndex (root: string, integrity: string): StoreIndex | 'missing' | 'bad' {
  try {
    return readIndex(entryDir(root, integrity), integrity)
  } catch {
    return 'bad'
  }
}

/** The entry folder of an integrity: `<root>/<algo>/<hex[0:2]>/<hex[2:4]>/<hex[4:]>`. */
export function entryDir (root: string, integrity: string): string {
  const { algorithm, hex } = firstHash(integrity)
  // the parts have no separators: path.join's normalizing is needed for the root only, once
  if (root !== joined.root) joined = { root, base: path.join(root, '.').replace(/[\\/]+$/, '') }
  const sep = path.sep
  return `${joined.base}${sep}${algorithm}${sep}${hex.slice(0, 2)}${sep}${hex.slice(2, 4)}${sep}${hex.slice(4)}`
}
let joined = { root: '', base: '' }

/** One hash, as every registry lockfile entry has it: what ssri.parse would pick, without its cost (twice per package per run). */
const SINGLE_HASH = /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$/

export function firstHash (integrity: string): { algorithm: string, hex: string } {
  const single = SINGLE_HASH.exec(integrity)
  if (single) return { algorithm: single[1], hex: Buffer.from(single[2], 'base64').toString('hex') }
  const parsed: any = ssri.parse(integrity)
  const algo = parsed && Object.keys(parsed).length ? parsed.pickAlgorithm() : undefined
  const hash = algo ? parsed[algo][0] : undefined
  if (!hash) throw new SafeInstallError('ESIWRITE', `unreadable integrity "${integrity.slice(0, 40)}"`)
  return { algorithm: algo, hex: Buffer.from(hash.digest, 'base64').toString('hex') }
}

/** npm's exec mode for bins: 0o777 minus the umask (bin-links' fix-bin). */
export function execMode (): number {
  return 0o777 & ~process.umask()
}

// ---------------------------------------------------------------- loading

function readIndex (dir: string, integrity: string): StoreIndex | 'missing' | 'bad' {
  let text: string
  try {
    text = fs.readFileSync(dir + path.sep + INDEX, 'utf8')
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'bad'
  }
  try {
    const index = JSON.parse(text) as StoreIndex
    if (index.v !== STORE_VERSION || index.integrity !== integrity || !Array.isArray(index.files) || !Array.isArray(index.orig)) return 'bad'
    return index
  } catch {
    return 'bad'
  }
}

/** Checks every file of an entry against its index; returns what differs, or undefined. */
export function checkEntryFiles (dir: string, index: StoreIndex): string | undefined {
  const check = (base: string, rows: FileRow[]): string | undefined => {
    for (const row of rows) {
      const [rel, size, mtimeNs, ino, mode] = row
      let st: fs.BigIntStats | undefined
      try {
        st = fs.lstatSync(base + '/' + rel, { bigint: true, throwIfNoEntry: false })
      } catch (err) {
        return `${rel}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`
      }
      if (!st) return `${rel}: missing`
      if (!st.isFile()) return `${rel}: not a file`
      if (st.size !== BigInt(size)) return `${rel}: size`
      if (String(st.mtimeNs) !== mtimeNs) return `${rel}: mtime`
      if (String(st.ino) !== ino) return `${rel}: inode`
      if (Number(st.mode & 0o7777n) !== storeMode(mode)) return `${rel}: mode`
    }
    return undefined
  }
  return check(path.join(dir, FILES), index.files) ?? check(path.join(dir, ORIG), index.orig)
}

/** The mode of the store file for a row's npm mode: read-only. */
export function storeMode (mode: number): number {
  return mode & 0o7777 & ~0o222
}

export function listingOf (index: StoreIndex): Listing {
  const paths: string[] = []
  const modes: number[] = []
  const fixes: Array<[number, number, 0 | 1]> = []
  for (const row of index.files) {
    if (row[5] !== undefined) fixes.push([paths.length, row[5][0], row[5][1]])
    paths.push(row[0])
    modes.push(row[4])
  }
  return { paths, modes, fixes }
}

/** Names a listing's content: equal digests, equal paths, modes and fixes. */
export function listingDigest (listing: Listing): string {
  return crypto.createHash('sha256').update(JSON.stringify([listing.paths, listing.modes, listing.fixes])).digest('base64')
}

export function knownListing (listing: Listing): KnownListing {
  return { paths: listing.paths, modes: listing.modes, fixes: listing.fixes, digest: listingDigest(listing) }
}

/** A remembered listing is plain JSON from the cache: its shape is checked before use. */
export function validListing (x: any): x is KnownListing {
  if (!x || typeof x.digest !== 'string' || !Array.isArray(x.paths) || !Array.isArray(x.modes) || !Array.isArray(x.fixes)) return false
  const n = x.paths.length
  return x.modes.length === n && x.paths.every((p: unknown) => typeof p === 'string') && x.modes.every(Number.isInteger) &&
    x.fixes.every((f: any) => Array.isArray(f) && Number.isInteger(f[0]) && f[0] >= 0 && f[0] < n && Number.isInteger(f[1]) && (f[2] === 0 || f[2] === 1))
}

function filesDirOf (dir: string): string {
  // dir comes from entryDir (normalized): joined without path.join, once per package per run
  return dir + path.sep + FILES
}

function origDirOf (dir: string): string {
  return dir + path.sep + ORIG
}

/**
 * An entry known by its remembered listing, its index not read: before
 * anything is linked from it, its files must be checked and the digest of
 * its index's listing compared with the listing's (listingProblems).
 */
export function listedEntry (root: string, integrity: string, listing: Listing): EntryFiles {
  const dir = entryDir(root, integrity)
  return { integrity, dir, filesDir: filesDirOf(dir), origDir: origDirOf(dir), listing }
}

/** True when the entry of `integrity` has an index (is complete); nothing is read. */
export function hasEntry (root: string, integrity: string): boolean {
  return fs.existsSync(entryDir(root, integrity) + path.sep + INDEX)
}

// byPath and hasNodeModules serve only a layout computed from Arborist's
// tree: a write with a remembered layout never pays for them
class Entry implements StoreEntry {
  readonly filesDir: string
  readonly origDir: string
  #byPath?: Map<string, FileRow>
  #listing?: Listing
  constructor (readonly integrity: string, readonly dir: string, readonly index: StoreIndex) {
    this.filesDir = filesDirOf(dir)
    this.origDir = origDirOf(dir)
  }

  get listing (): Listing {
    return (this.#listing ??= listingOf(this.index))
  }

  get byPath (): ReadonlyMap<string, FileRow> {
    return (this.#byPath ??= new Map(this.index.files.map(row => [row[0], row])))
  }

  get hasNodeModules (): boolean {
    return this.index.files.some(row => row[0].startsWith('node_modules/') || row[0].includes('/node_modules/'))
  }
}

/**
 * Makes sure every integrity has a complete, unchanged entry: reuses checked
 * entries, extracts missing or changed ones (bounded concurrency) from the
 * verified tarball store `tarballs` (a cacache keyed by integrity).
 */
export async function ensureEntries (root: string, tarballs: string, integrities: Iterable<string>, opts: {
  concurrency?: number
  known?: ReadonlyMap<string, StoreIndex>
  /** the files of complete entries are checked elsewhere (checkStoredEntries, then repairEntry) */
  filesCheckedElsewhere?: boolean
} = {}): Promise<EnsureResult> {
  const entries = new Map<string, StoreEntry>()
  const events: StoreEvent[] = []
  const todo: string[] = []
  let reused = 0
  let n = 0
  for (const integrity of new Set(integrities)) {
    if ((++n & 63) === 0) await turn()
    const dir = entryDir(root, integrity)
    // an index read moments ago (holds()) is as good: the files are checked against it below
    const index = opts.known?.get(integrity) ?? readIndex(dir, integrity)
    if (index === 'missing') {
      todo.push(integrity)
      continue
    }
    const problem = entryProblem(dir, index, !opts.filesCheckedElsewhere)
    if (!problem) {
      entries.set(integrity, new Entry(integrity, dir, index as StoreIndex)) // an unreadable index is a problem
      reused++
      continue
    }
    events.push({ integrity, kind: problem[0], detail: problem[1] })
    removeEntry(dir)
    todo.push(integrity)
  }
  await mapLimit(todo, opts.concurrency ?? 8, async integrity => {
    removeStale(entryDir(root, integrity))
    entries.set(integrity, await extractEntry(root, tarballs, integrity))
  })
  return { entries, events, extracted: todo.length, reused, fresh: new Set(todo) }
}

/** What checkStoredEntries found wrong with an entry: [integrity, kind, what differs]. */
export type EntryProblem = [string, StoreEvent['kind'], string]

/**
 * Checks the files of the complete entries among `integrities` against their
 * indexes, as ensureEntries does, and says which do not hold. Entries that
 * are missing are not reported (ensureEntries extracts them; for a listed
 * entry, listingProblems reports it). Reads only: it may run on another
 * thread than the write.
 */
export function checkStoredEntries (root: string, integrities: readonly string[]): EntryProblem[] {
  const list = [...new Set(integrities)]
  return checkPositions(root, list, list.keys()).problems
}

/** What checking some of a list of entries found. */
export interface EntriesChecked {
  readonly problems: EntryProblem[]
  /** the listing digest of each entry found sound, by integrity */
  readonly digests: Record<string, string>
  /** the positions in the list that were checked */
  readonly done: number[]
}

export function emptyCheck (): EntriesChecked {
  return { problems: [], digests: {}, done: [] }
}

function checkEntry (root: string, integrity: string, out: EntriesChecked): void {
  const dir = entryDir(root, integrity)
  const index = readIndex(dir, integrity)
  if (index === 'missing') return
  const problem = entryProblem(dir, index, true)
  if (problem) out.problems.push([integrity, ...problem])
  else out.digests[integrity] = listingDigest(listingOf(index as StoreIndex))
}

/** Positions below `n`, each taken from the counter `claim` (one Int32 in shared memory) as it is reached. */
export function * claimed (claim: Int32Array, n: number): Generator<number> {
  for (let i = Atomics.add(claim, 0, 1); i < n; i = Atomics.add(claim, 0, 1)) yield i
}

/**
 * checkStoredEntries over a list that two threads share: each takes the next
 * unclaimed position from `claim`, so the thread with time to spare does
 * more of the work. Every `every` entries it lets its thread's other work in
 * (the side thread's TUF request, the main thread's verdicts).
 */
export async function checkClaimedYielding (root: string, integrities: readonly string[], claim: Int32Array, every = 32): Promise<EntriesChecked> {
  const out = emptyCheck()
  let n = 0
  for (const i of claimed(claim, integrities.length)) {
    checkEntry(root, integrities[i], out)
    out.done.push(i)
    if (++n % every === 0) await turn()
  }
  return out
}

/** The same for given positions, claiming nothing (those a thread claimed and never reported). */
export function checkPositions (root: string, integrities: readonly string[], positions: Iterable<number>): EntriesChecked {
  const out = emptyCheck()
  for (const i of positions) {
    checkEntry(root, integrities[i], out)
    out.done.push(i)
  }
  return out
}

/** Listed entries (by integrity, with the digest of their remembered listing) the check found missing, or with other files. */
export function listingProblems (checked: EntriesChecked, listed: ReadonlyMap<string, { readonly digest: string }>): EntryProblem[] {
  const out: EntryProblem[] = []
  const reported = new Set(checked.problems.map(p => p[0]))
  for (const [integrity, { digest }] of listed) {
    if (reported.has(integrity)) continue
    const found = checked.digests[integrity]
    if (found === undefined) out.push([integrity, 'changed', `${INDEX}: missing`])
    else if (found !== digest) out.push([integrity, 'changed', 'files differ from the remembered listing'])
  }
  return out
}

/** What is wrong with an entry that has an index file (its files checked when `checkFiles`), or undefined. */
function entryProblem (dir: string, index: StoreIndex | 'bad', checkFiles: boolean): [StoreEvent['kind'], string] | undefined {
  if (index === 'bad') return ['bad-index', 'index unreadable']
  const changed = checkFiles ? checkEntryFiles(dir, index) : undefined
  return changed === undefined ? undefined : ['changed', changed]
}

/** An entry found changed: taken out of the store and extracted again from the verified tarball. */
export async function repairEntry (root: string, tarballs: string, integrity: string): Promise<StoreEntry> {
  const dir = entryDir(root, integrity)
  removeEntry(dir)
  removeStale(dir)
  return extractEntry(root, tarballs, integrity)
}

/** Takes an entry out of the store: the index goes first, so a half-removed entry is never complete. */
function removeEntry (dir: string): void {
  const aside = `${dir}.rm-${process.pid}-${crypto.randomBytes(4).toString('hex')}`
  try {
    fs.renameSync(dir, aside)
  } catch {
    fs.rmSync(path.join(dir, INDEX), { force: true })
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 })
    return
  }
  fs.rmSync(aside, { recursive: true, force: true, maxRetries: 2 })
}

/** Half-built (`.tmp-<pid>-…`) or half-removed (`.rm-<pid>-…`) copies of an entry left by a process that is gone. */
function removeStale (dir: string): void {
  const base = path.basename(dir)
  let names: string[] = []
  try { names = fs.readdirSync(path.dirname(dir)) } catch { return }
  for (const name of names) {
    const m = name.startsWith(base + '.') ? /\.(?:tmp|rm)-(\d+)-[0-9a-f]+$/.exec(name) : null
    if (m && !processAlive(Number(m[1]))) fs.rmSync(path.join(path.dirname(dir), name), { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------- extraction

/** Reads the verified bytes of `integrity` and builds its entry. */
export async function extractEntry (root: string, tarballs: string, integrity: string): Promise<StoreEntry> {
  const read = await readVerified(tarballs, integrity)
  if (read.status !== 'hit') {
    throw new SafeInstallError('ESIWRITE', read.status === 'corrupt'
      ? `the verified tarball ${integrity.slice(0, 24)}… changed in the store since it was verified (${read.reason}); it was evicted`
      : `the verified tarball ${integrity.slice(0, 24)}… is not in the store`, { fix: 'run again: it will be fetched and verified again' })
  }
  return buildEntry(root, integrity, read.data)
}

/**
 * Extracts `data` (bytes already checked against `integrity`, or the tar
 * inflated from them: tar reads either) into a new entry. MaterializeWriter's
 * keep() calls it with bytes verified moments before; write() goes through
 * extractEntry, which reads them from the verified tarball store.
 */
export async function buildEntry (root: string, integrity: string, data: Buffer): Promise<StoreEntry> {
  const dir = entryDir(root, integrity)
  const tmp = `${dir}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`
  const filesDir = path.join(tmp, FILES)
  fs.mkdirSync(filesDir, { recursive: true })
  try {
    untar(data, filesDir)
    const index = finishEntry(tmp, integrity)
    fs.writeFileSync(path.join(tmp, INDEX), JSON.stringify(index))
    try {
      fs.renameSync(tmp, dir)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
      // another process put the same entry in place first: use it if sound
      fs.rmSync(tmp, { recursive: true, force: true })
      const theirs = readIndex(dir, integrity)
      if (theirs !== 'missing' && theirs !== 'bad' && checkEntryFiles(dir, theirs) === undefined) return new Entry(integrity, dir, theirs)
      removeEntry(dir)
      return buildEntry(root, integrity, data)
    }
    return new Entry(integrity, dir, index)
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true })
    throw err
  }
}

/** pacote's extraction options (lib/fetcher.js #tarxOptions), for a fetcher without a manifest (as reify's `name@url` specs are). */
function pacoteTarOptions (cwd: string): Record<string, any> {
  const fmode = 0o666
  const dmode = 0o777
  const umask = 0
  const sawIgnores = new Set<string>()
  return {
    cwd,
    noChmod: true,
    noMtime: true,
    filter: (_name: string, entry: any) => {
      if (/Link$/.test(entry.type)) return false
      const m = /Directory|GNUDumpDir/.test(entry.type) ? dmode : /File$/.test(entry.type) ? fmode : 0
      entry.mode = ((entry.mode | m) & ~umask) | 0o600
      if (/File$/.test(entry.type)) {
        const base = path.basename(entry.path)
        if (base === '.npmignore') {
          sawIgnores.add(entry.path)
        } else if (base === '.gitignore') {
          const ni = entry.path.replace(/\.gitignore$/, '.npmignore')
          if (sawIgnores.has(ni)) return false
          entry.path = ni
        }
        return true
      }
      return undefined
    },
    strip: 1,
    onwarn: () => {},
    umask,
    preserveOwner: false,
  }
}

// node-tar's synchronous unpacker, with pacote's options: the same files,
// modes and refusals as the async one. Each file's open, write and close
// went through the four libuv threads, shared by every extraction in flight
// and by the fetches: a cold install spent most of its time queued there.
function untar (data: Buffer, cwd: string): void {
  let failed: unknown
  const u = new (tar().UnpackSync)(pacoteTarOptions(cwd) as any)
  u.on('error', (err: unknown) => { failed ??= err })
  u.end(data)
  if (failed !== undefined) throw failed
}

interface Walked { files: { rel: string, st: fs.BigIntStats }[] }

function walk (base: string): Walked {
  const files: Walked['files'] = []
  const visit = (abs: string, rel: string): void => {
    for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name
      const a = `${abs}/${d.name}`
      if (d.isDirectory()) visit(a, r)
      else if (d.isFile()) files.push({ rel: r, st: fs.lstatSync(a, { bigint: true }) })
      else fs.rmSync(a, { force: true }) // pacote's filter lets only files through; nothing else can be here
    }
  }
  visit(base, '')
  files.sort((a, b) => a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0)
  return { files }
}

const MANIFEST = /^(?:.*\/)?node_modules\/(?:@[^/]+\/)?[^/]+\/package\.json$/

/** Bin targets (paths relative to the entry) of the package and of every package bundled in it. */
export function binTargetsOf (files: Iterable<string>, readJson: (rel: string) => any): Set<string> {
  const out = new Set<string>()
  for (const rel of files) {
    if (rel !== 'package.json' && !MANIFEST.test(rel)) continue
    let pkg: any
    try { pkg = readJson(rel) } catch { continue }
    if (!pkg || typeof pkg !== 'object' || !pkg.bin) continue
    const bins = normalizeBin({ name: pkg.name, bin: pkg.bin }).bin ?? {}
    const dir = path.posix.dirname(rel)
    for (const target of Object.values(bins) as string[]) out.add(dir === '.' ? target : `${dir}/${target}`)
  }
  return out
}

const WINDOWS_HASHBANG = /^#![^\n]+\r\n/

/** bin-links' fix-bin, on the store copy: executable, and no CRLF on the hashbang line. */
function fixBin (abs: string, origAbs: string): boolean {
  const fd = fs.openSync(abs, 'r')
  let head: string
  try {
    const buf = Buffer.alloc(2048)
    const n = fs.readSync(fd, buf, 0, 2048, 0)
    head = buf.subarray(0, n).toString()
  } finally {
    fs.closeSync(fd)
  }
  if (!(head.charCodeAt(0) === 0x23 && head.charCodeAt(1) === 0x21 && WINDOWS_HASHBANG.test(head))) return false
  // keep the bytes as extracted for installs where this bin is not linked
  fs.mkdirSync(path.dirname(origAbs), { recursive: true })
  fs.renameSync(abs, origAbs)
  const content = fs.readFileSync(origAbs, 'utf8')
  fs.writeFileSync(abs, content.replace(/^(#![^\n]+)\r\n/, '$1\n'))
  return true
}

/** After untar: bins, read-only modes, the index (not yet written). */
function finishEntry (tmp: string, integrity: string): StoreIndex {
  const filesDir = path.join(tmp, FILES)
  const origDir = path.join(tmp, ORIG)
  const { files } = walk(filesDir)
  const bins = binTargetsOf(files.map(f => f.rel), rel => JSON.parse(fs.readFileSync(path.join(filesDir, rel), 'utf8')))
  const exe = execMode()
  const rows: FileRow[] = []
  const orig: FileRow[] = []
  for (const { rel, st: first } of files) {
    const abs = path.join(filesDir, rel)
    let st = first
    const extracted = Number(first.mode & 0o7777n)
    let mode = extracted
    let fix: [number, 0 | 1] | undefined
    if (bins.has(rel)) {
      const rewritten = fixBin(abs, path.join(origDir, rel))
      if (rewritten) {
        fs.chmodSync(path.join(origDir, rel), storeMode(extracted))
        const ost = fs.lstatSync(path.join(origDir, rel), { bigint: true })
        orig.push([rel, Number(ost.size), String(ost.mtimeNs), String(ost.ino), extracted])
        st = fs.lstatSync(abs, { bigint: true })
      }
      mode = exe
      fix = [extracted, rewritten ? 1 : 0]
    }
    fs.chmodSync(abs, storeMode(mode))
    const row: FileRow = [rel, Number(st.size), String(st.mtimeNs), String(st.ino), mode]
    if (fix) row.push(fix)
    rows.push(row)
  }
  return { v: STORE_VERSION, integrity, umask: process.umask(), files: rows, orig }
}
