// Writer v2 (`ci`): the tree Arborist would reify, built from the verified
// content store in a staging folder beside node_modules and swapped in.
//
// 1. a verified store entry for every verified tarball (extracted once per
//    integrity, checked before reuse: lib/write/store.ts), and the layout:
//    which entry fills which folder, links, bins, npm's hidden lockfile
//    (lib/write/tree-layout.ts), from Arborist's tree or, for a lockfile
//    laid out before, from the cached plan (lib/plan/cached.ts)
// 2. <dir>/.safe-install-staging-node_modules for the root and every folder
//    that gets a node_modules: one mkdir per folder (the set is computed
//    first), one clone/link/copy per file (lib/write/import-file.ts),
//    symlinks for links and bins exactly as Arborist and bin-links make them,
//    bundled dependencies from their bundler's tarball, npm's hidden lockfile
// 3. the staged swap (lib/write/swap.ts): journal, old trees aside, staged
//    trees in place, commit; the old trees are removed afterwards (settle()).
//
// Nothing is read from anywhere but the store, whose entries were extracted
// from tarballs verified against the lockfile integrity.
import fs from 'node:fs'
import path from 'node:path'
import { SafeInstallError } from '../errors.js'
import { turn } from '../fetch/pool.js'
import type { Options } from '../options.js'
import { storePaths } from '../fetch/store.js'
import { installedNodes } from '../plan/load.js'
import type { RunNote } from '../types.js'
import { createImporter, type FileImporter, type ImportKind } from './import-file.js'
import type { Linked, SharedJob } from './shared-links.js'
import { buildEntry, checkClaimedYielding, claimed, checkPositions, checkStoredEntries, contentStoreRoot, emptyCheck, ensureEntries, entryIndex, execMode, hasEntry, knownListing, listedEntry, listingProblems, repairEntry, type EnsureResult, type EntriesChecked, type EntryFiles, type KnownListing, type StoreEntry, type StoreEvent, type StoreIndex } from './store.js'
import { recoverSwap, StagedSwap } from './swap.js'
import { dirsOf, layoutFromTree, StagingLayout, type TreeLayout } from './tree-layout.js'
import type { StagedWrite, TreeWriter, WriteInput } from './writer.js'


export interface MaterializeStats {
  nodes: number
  entriesReused: number
  entriesExtracted: number
  dirs: number
  files: number
  links: number
  bins: number
  imported: Record<ImportKind, number>
  /** ms per step */
  timings: Record<string, number>
}

export interface MaterializeWriterOptions {
  /** called for run-wide facts (store entries re-extracted, import fallbacks) */
  onNote?: (note: RunNote) => void
  /** store extractions at once (default 8) */
  concurrency?: number
  /**
   * checks store entries (store.ts checkClaimedYielding) elsewhere, e.g. on the run's
   * side thread, taking positions from `claim` as the write does once its
   * folders are made; without it checkAhead() does nothing and every write
   * checks the entries it uses itself
   */
  checker?: (root: string, integrities: readonly string[], claim: Int32Array) => Promise<EntriesChecked>
  /**
   * builds a store entry from the verified tarball store (store.ts
   * extractEntry) elsewhere, e.g. on the run's side thread; without it keep()
   * extracts on this thread
   */
  extractor?: (root: string, tarballs: string, integrity: string) => Promise<void>
  /**
   * hard-links a share of the plain jobs (shared-links.ts linkClaimedYielding)
   * elsewhere, e.g. on the run's side thread, taking jobs from `claim` as
   * this thread does; without it this thread links every file
   */
  linker?: (jobs: readonly SharedJob[], claim: Int32Array) => Promise<Linked>
}

/** A node whose files come from a store entry. */
interface FileJob {
  entry: EntryFiles
  /** folder in staging */
  staged: string
  /** entry paths (relative) owned by nested nodes: their files come from elsewhere */
  exclude: readonly string[]
  /** entry paths of bin targets bin-links would fix in this install */
  fixed: Set<string>
}

interface SymlinkJob { staged: string, target: string }

export class MaterializeWriter implements TreeWriter {
  /** notes of the last write (also given to onNote) */
  notes: RunNote[] = []
  /** store entries found changed and extracted again in the last write */
  events: StoreEvent[] = []
  stats?: MaterializeStats
  /** what the last successful write laid out, for reuse by a later run of the same lockfile */
  layout?: TreeLayout
  private swap?: StagedSwap
  /** indexes read by holds(), used once by the next write */
  readonly #indexes = new Map<string, StoreIndex>()
  /** remembered listings holds() took instead of reading indexes; checked ahead against their digests */
  readonly #listed = new Map<string, KnownListing>()
  /** the entries of the last write, for listings() */
  #entries?: ReadonlyMap<string, EntryFiles>
  /** extractions keep() handed to the extractor; write() waits for them */
  readonly #kept = new Map<string, Promise<void>>()
  /** checkAhead()'s check, for the next write with `checkedAhead` */
  #ahead?: AheadCheck

  constructor (private readonly opts: MaterializeWriterOptions = {}) {}

  get timings (): Readonly<Record<string, number>> | undefined {
    return this.stats?.timings
  }

  async recover (options: Options): Promise<string[]> {
    return recoverSwap(options.prefix)
  }

  // extracting while the other packages are fetched keeps writing files
  // (most of a cold run's system time) out of write(); handed to the
  // extractor, it does not hold up this thread either. A failed extraction
  // is only work left to write(), which extracts what is missing.
  async keep (integrity: string, data: Buffer, options: Options): Promise<void> {
    if (this.#kept.has(integrity) || this.holds(integrity, options)) return
    const root = contentStoreRoot(options.cache)
    if (!this.opts.extractor) {
      await buildEntry(root, integrity, data).then(() => {}, () => {})
      return
    }
    this.#kept.set(integrity, this.opts.extractor(root, storePaths(options.cache).store, integrity).catch(() => {}))
  }

  checkAhead (integrities: readonly string[], options: Options): void {
    if (!this.opts.checker) return
    const list = [...new Set(integrities)]
    const claim = new Int32Array(new SharedArrayBuffer(4))
    const theirs = this.opts.checker(contentStoreRoot(options.cache), list, claim)
    theirs.catch(() => {}) // what it did not report, the write checks itself
    this.#ahead = { list, claim, theirs }
  }

  /**
   * With a remembered listing of the entry (and a checker to compare it with
   * the entry's index before anything is linked), only the index's presence
   * is looked at: no index is read or parsed on this thread.
   */
  holds (integrity: string, options: Options, known?: KnownListing): boolean {
    if (known && this.opts.checker) {
      if (!hasEntry(contentStoreRoot(options.cache), integrity)) return false
      this.#listed.set(integrity, known)
      return true
    }
    const index = entryIndex(contentStoreRoot(options.cache), integrity)
    if (typeof index !== 'object') return false
    this.#indexes.set(integrity, index)
    return true
  }

  /** The listings of the entries the last write used, to remember with its layout. */
  listings (): Record<string, KnownListing> | undefined {
    if (!this.#entries) return undefined
    const out: Record<string, KnownListing> = {}
    for (const [integrity, entry] of this.#entries) out[integrity] = knownListing(entry.listing)
    return out
  }

  /** Resolves when the previous trees of the last write are removed. Await before exit (or before releasing the lock). */
  settle (): Promise<void> {
    return this.swap?.cleanup() ?? Promise.resolve()
  }

  private storeEvent (ev: StoreEvent): void {
    this.events.push(ev)
    this.note(`store entry ${ev.integrity.slice(0, 20)}… was ${ev.kind === 'changed' ? 'changed on disk' : 'unreadable'} (${ev.detail}): deleted and extracted again from the verified tarball`, 'warning')
  }

  private note (message: string, level: 'info' | 'warning' = 'info'): void {
    const n: RunNote = { check: 'write', message, level }
    this.notes.push(n)
    this.opts.onNote?.(n)
  }

  async write (input: WriteInput): Promise<void> {
    const staged = await this.stage(input)
    await staged.commit()
  }

  /**
   * Builds the new trees in their staging folders and stops short of the
   * swap: node_modules is untouched until commit(); abort() removes what was
   * staged. A caller may stage while the last verdicts are still coming in.
   */
  async stage (input: WriteInput): Promise<StagedWrite> {
    const { options, loaded, verified, paths } = input
    this.notes = []
    this.events = []
    this.layout = undefined
    this.#entries = undefined
    const timings: Record<string, number> = {}
    let t = performance.now()
    const lap = (name: string) => { const now = performance.now(); timings[name] = now - t; t = now }

    const prefix = path.resolve(options.prefix)
    const storeRoot = contentStoreRoot(options.cache)
    // ---- 1. a checked store entry for every verified tarball (checked
    // here, or by checkAhead() while this thread makes the folders below)
    const ahead = input.checkedAhead ? this.#ahead : undefined
    this.#ahead = undefined
    // listed entries are used only under the check that compares them (ahead:
    // it must cover them) and only with the remembered layout they came with
    const covered = new Set(ahead?.list)
    const listed = ahead && loaded.layout ? new Map([...this.#listed].filter(([i]) => covered.has(i))) : new Map<string, KnownListing>()
    this.#listed.clear()
    let ensured: EnsureResult
    try {
      await Promise.all(this.#kept.values())
      this.#kept.clear()
      ensured = await ensureEntries(storeRoot, paths.store, [...verified.values()].map(p => p.integrity).filter(i => !listed.has(i)), {
        concurrency: this.opts.concurrency,
        known: this.#indexes,
        filesCheckedElsewhere: ahead !== undefined,
      })
    } catch (err) {
      throw writeError(err, false)
    } finally {
      this.#indexes.clear()
    }
    const entries = new Map<string, EntryFiles>(ensured.entries)
    for (const [integrity, listing] of listed) entries.set(integrity, listedEntry(storeRoot, integrity, listing))
    ensured.reused += listed.size
    for (const ev of ensured.events) this.storeEvent(ev)
    lap('store')

    // ---- 2. what goes where: remembered for this lockfile, or from Arborist's tree
    let layout: TreeLayout
    if (loaded.layout) {
      layout = loaded.layout
      for (const f of layout.files) {
        if (verified.get(f.location)?.integrity !== f.integrity) {
          throw new SafeInstallError('ESIWRITE', `no verified tarball for ${f.location} with ${f.integrity.slice(0, 20)}…: nothing unverified is installed`, {
            path: f.location,
            fix: `the cached layout under ${path.join(options.cache, '_safe-install', 'plans')} does not match this lockfile: delete it and run again`,
          })
        }
      }
    } else {
      const tree = loaded.arborist.idealTree
      const nodes = installedNodes(tree, options)
      layout = layoutFromTree(tree, nodes, prefix, loaded.arborist.options, options.npmFlat.binLinks !== false,
        node => verified.get(node.location)?.integrity, integrity => ensured.entries.get(integrity)!)
    }
    lap('plan')

    const abs = (rel: string) => path.resolve(prefix, rel)
    const staging = new StagingLayout(prefix)
    const jobs: FileJob[] = layout.files.map(f => ({ entry: entries.get(f.integrity)!, staged: staging.stagedRel(f.path), exclude: f.exclude, fixed: new Set(f.fixed) }))
    const linkJobs: SymlinkJob[] = layout.links.map(l => ({ staged: staging.stagedRel(l.path), target: l.target }))
    const bins: SymlinkJob[] = layout.bins.map(b => ({ staged: staging.stagedRel(b.path), target: b.target }))

    // ---- the folders, computed once: one mkdir each, parents first
    const recordDir = options.record.enabled && staging.hasRoot(prefix) ? path.join(staging.stagingOf(prefix), '.safe-install') : undefined
    const folders = () => folderSet(staging, jobs, [...linkJobs, ...bins], recordDir)
    const dirSet = folders()
    const dirs = [...dirSet].sort()

    // the swap covers the root, every workspace, and every other folder getting a node_modules
    const swapDirs = [...new Set([prefix, ...loaded.plan.workspaces.map((w: any) => path.resolve(prefix, w.location)), ...staging.roots()])]
    const swap = new StagedSwap(prefix, swapDirs)
    const importer = createImporter(options.policy.importMethod)
    let fileCount = 0
    let recordStaged: Promise<void> | undefined
    const dropped = new AbortController()
    try {
      await swap.begin()
      for (const root of staging.roots()) {
        const dir = staging.stagingOf(root)
        fs.rmSync(dir, { recursive: true, force: true })
        fs.mkdirSync(dir)
      }
      // between batches, a replay's keys and advisory answers come in (and the
      // record is made from them) while the tree is still being written
      for (let i = 0; i < dirs.length; i++) {
        fs.mkdirSync(dirs[i])
        if ((i & 511) === 511) await turn()
      }
      lap('mkdir')
      recordStaged = recordDir ? input.stageRecord?.(recordDir, dropped.signal) : undefined
      recordStaged?.catch(() => {}) // awaited by commit(); an abort leaves it unheard
      if (ahead) {
        // nothing is linked from an entry before its files are known unchanged
        const reused = [...entries.keys()].filter(i => !ensured.fresh.has(i))
        const checked = await finishCheck(storeRoot, ahead)
        const problems = [
          ...checked.problems,
          ...listingProblems(checked, listed),
          // entries of this write the check ahead was not given (none in a replay)
          ...checkStoredEntries(storeRoot, reused.filter(i => !covered.has(i))),
        ]
        for (const [integrity, kind, detail] of problems) {
          if (ensured.fresh.has(integrity) || !entries.has(integrity)) continue
          const entry = await repairEntry(storeRoot, paths.store, integrity)
          entries.set(integrity, entry)
          ensured.reused--
          ensured.extracted++
          for (const job of jobs) if (job.entry.integrity === integrity) job.entry = entry
          this.storeEvent({ integrity, kind, detail })
        }
        // the folders were made from the entries as they were listed: one
        // extracted again may have others (nothing is linked yet: all are empty)
        if (problems.length) reconcileFolders(dirSet, folders())
        lap('check')
      }
      let sinceTurn = 0
      const imported = async (n: number): Promise<void> => {
        fileCount += n
        if ((sinceTurn += n) >= 1024) {
          sinceTurn = 0
          await turn()
        }
      }
      // the first job settles what `auto` does; if that is hard links, the
      // plain jobs are shared with the linker
      let own = jobs
      let shared: FileJob[] = []
      if (this.opts.linker && jobs.length > 1) {
        await imported(importFiles(jobs[0], importer))
        own = []
        for (const job of jobs.slice(1)) (importer.kind === 'hardlink' && plainJob(job) ? shared : own).push(job)
      }
      const sharing = shared.length ? shareLinks(this.opts.linker!, shared) : undefined
      const mine: number[] = []
      try {
        for (const job of own) await imported(importFiles(job, importer))
        if (sharing) {
          for (const p of claimed(sharing.claim, shared.length)) {
            await imported(importFiles(shared[p], importer))
            mine.push(p)
          }
        }
      } catch (err) {
        // the linker claims nothing more, and is heard out before the staged tree is removed
        if (sharing) {
          Atomics.store(sharing.claim, 0, shared.length)
          await sharing.theirs.catch(() => {})
        }
        throw err
      }
      if (sharing) {
        // a linker that failed as a thread (not on a file) reports nothing: its jobs are done here
        const theirs = await sharing.theirs.catch((): Linked => ({ done: [], counts: { clone: 0, hardlink: 0, copy: 0 }, notes: [] }))
        if (theirs.failed) throw Object.assign(new Error(theirs.failed.message), { code: theirs.failed.code })
        for (const k of Object.keys(theirs.counts) as ImportKind[]) importer.counts[k] += theirs.counts[k]
        for (const note of theirs.notes) if (!importer.notes.includes(note)) importer.notes.push(note)
        fileCount += theirs.done.reduce((sum, p) => sum + shared[p].entry.listing.paths.length, 0)
        const done = new Set([...mine, ...theirs.done])
        for (const [p, job] of shared.entries()) {
          if (done.has(p)) continue
          // claimed and maybe half linked by a thread that is gone
          for (const rel of job.entry.listing.paths) fs.rmSync(job.staged + '/' + rel, { force: true })
          await imported(importFiles(job, importer))
        }
      }
      lap('files')
      for (const l of linkJobs) fs.symlinkSync(l.target, l.staged, 'junction')
      for (const b of bins) {
        try {
          fs.symlinkSync(b.target, b.staged, 'file')
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
          fs.rmSync(b.staged, { recursive: true, force: true }) // bin-links clobbers within node_modules/.bin
          fs.symlinkSync(b.target, b.staged, 'file')
        }
      }
      lap('symlinks')
      if (layout.hiddenLockfile !== undefined) fs.writeFileSync(path.join(staging.stagingOf(prefix), '.package-lock.json'), layout.hiddenLockfile)
      lap('lockfile')
    } catch (err) {
      dropped.abort()
      await swap.rollback().catch(() => {})
      throw writeError(err, true)
    }
    let settled = false
    return {
      abort: async () => {
        if (settled) return
        settled = true
        dropped.abort()
        await swap.rollback().catch(() => {})
      },
      commit: async () => {
        if (settled) throw new Error('staged write already committed or aborted')
        settled = true
        t = performance.now()
        try {
          await recordStaged
          await swap.moveAside()
          await swap.putInPlace(staging.roots())
          // commit point: from here on the new tree is the one to keep
          await swap.commit()
        } catch (err) {
          dropped.abort()
          await swap.rollback().catch(() => {})
          throw writeError(err, true)
        }
        this.#entries = entries
        this.finish(swap, layout, staging, prefix, abs, lap)
        if (input.save) {
          await saveIdealTree(loaded.arborist)
          lap('save')
        }
        void swap.cleanup().catch(() => {})
        for (const n of importer.notes) this.note(n)
        this.stats = {
          nodes: layout.nodes,
          entriesReused: ensured.reused,
          entriesExtracted: ensured.extracted,
          dirs: dirs.length,
          files: fileCount,
          links: linkJobs.length,
          bins: bins.length,
          imported: { ...importer.counts },
          timings,
        }
      },
    }
  }

  /** After the commit point: the swap to settle later, the hidden lockfile's time, bins outside node_modules. */
  private finish (swap: StagedSwap, layout: TreeLayout, staging: StagingLayout, prefix: string, abs: (rel: string) => string, lap: (name: string) => void): void {
    this.swap = swap
    this.layout = layout
    if (staging.hasRoot(prefix)) {
      // the swap renamed folders npm's hidden lockfile check stats: it must stay the newest thing
      const now = new Date()
      try { fs.utimesSync(path.join(prefix, 'node_modules', '.package-lock.json'), now, now) } catch {}
    }
    for (const rel of layout.fixOutside) fixSourceBin(abs(rel))
    lap('swap')
  }
}

// ------------------------------------------------------------------ helpers

interface AheadCheck {
  /** the integrities, each once: positions in this list are what is claimed */
  readonly list: readonly string[]
  /** the next unclaimed position, shared with the checker */
  readonly claim: Int32Array
  readonly theirs: Promise<EntriesChecked>
}

/**
 * The check ahead, finished: this thread takes positions nobody has claimed
 * yet (all of them when the checker has not started, none when it is done),
 * then waits for the checker's report. A position claimed but never reported
 * (the checker failed) is checked here.
 */
async function finishCheck (root: string, ahead: AheadCheck): Promise<EntriesChecked> {
  // yielding: the verdicts a replay still waits on (and the record made from them) come in meanwhile
  const mine = await checkClaimedYielding(root, ahead.list, ahead.claim, 64)
  const theirs = await ahead.theirs.catch(emptyCheck)
  const done = new Set([...mine.done, ...theirs.done])
  const rest = checkPositions(root, ahead.list, [...ahead.list.keys()].filter(i => !done.has(i)))
  const position = new Map(ahead.list.map((integrity, i) => [integrity, i]))
  // in list order, whoever checked what
  const problems = [...mine.problems, ...theirs.problems, ...rest.problems].sort((a, b) => position.get(a[0])! - position.get(b[0])!)
  return { problems, digests: { ...theirs.digests, ...mine.digests, ...rest.digests }, done: [...done, ...rest.done] }
}

/** Every staged folder the jobs, symlinks and the record need, parents included. */
function folderSet (staging: StagingLayout, jobs: readonly FileJob[], symlinks: readonly SymlinkJob[], recordDir: string | undefined): Set<string> {
  const dirSet = new Set<string>()
  const addParents = (p: string): void => {
    for (let d = p; !staging.isStagingRoot(d) && !dirSet.has(d); d = path.dirname(d)) dirSet.add(d)
  }
  for (const job of jobs) {
    addParents(job.staged)
    for (const rel of dirsOf(job.entry)) if (!excluded(job, rel)) dirSet.add(job.staged + '/' + rel)
  }
  for (const l of symlinks) addParents(path.dirname(l.staged))
  if (recordDir) dirSet.add(recordDir)
  return dirSet
}

/** Makes the folders of `wanted` that are not made yet and removes the made ones no longer wanted (deepest first). */
function reconcileFolders (made: Set<string>, wanted: Set<string>): void {
  for (const d of [...made].filter(d => !wanted.has(d)).sort().reverse()) fs.rmdirSync(d)
  for (const d of [...wanted].filter(d => !made.has(d)).sort()) fs.mkdirSync(d)
}

function excluded (job: FileJob, rel: string): boolean {
  for (const x of job.exclude) if (rel === x || rel.startsWith(x + '/')) return true
  return false
}

/** A job whose files are all hard links of its entry's: nothing excluded, no bin target fixed by the store or by this install. */
function plainJob (job: FileJob): boolean {
  return job.exclude.length === 0 && job.fixed.size === 0 && job.entry.listing.fixes.length === 0
}

/** Hands the linker the shared jobs, positions claimed from a new counter. */
function shareLinks (linker: NonNullable<MaterializeWriterOptions['linker']>, shared: readonly FileJob[]) {
  const claim = new Int32Array(new SharedArrayBuffer(4))
  const theirs = linker(shared.map(j => [j.entry.filesDir, j.staged, j.entry.listing.paths, j.entry.listing.modes]), claim)
  theirs.catch(() => {}) // heard once this thread's share is done
  return { claim, theirs }
}

/** Imports the files of one node from its store entry; returns how many. */
function importFiles (job: FileJob, importer: FileImporter): number {
  const { entry, staged, fixed } = job
  const src = entry.filesDir + '/'
  const dst = staged + '/'
  const exe = execMode()
  const { paths, modes, fixes } = entry.listing
  // by position: the few bin targets the store made executable
  const storeFixes = fixes.length ? new Map(fixes.map(f => [f[0], f])) : undefined
  let n = 0
  for (let i = 0; i < paths.length; i++) {
    const rel = paths[i]
    if (job.exclude.length && excluded(job, rel)) continue
    n++
    const storeFixed = storeFixes?.get(i)
    const npmFixed = fixed.has(rel)
    if ((storeFixed !== undefined) === npmFixed) {
      // linked even for packages with install scripts: scripts never run here, and
      // `safe-install rebuild` makes a package's files private copies before its scripts run
      importer.import(src + rel, dst + rel, modes[i])
    } else if (storeFixed) {
      // the store made this bin target executable, but no bin links to it here
      const [, mode, hasOrig] = storeFixed
      importer.copy(hasOrig ? entry.origDir + '/' + rel : src + rel, dst + rel, mode)
    } else {
      // a bin here (the lockfile's bin field) that the package's own manifest does not name
      importer.copy(src + rel, dst + rel, exe)
      dos2unix(dst + rel)
    }
  }
  return n
}

function dos2unix (file: string): void {
  const head = Buffer.alloc(2048)
  const fd = fs.openSync(file, 'r')
  let n = 0
  try { n = fs.readSync(fd, head, 0, 2048, 0) } finally { fs.closeSync(fd) }
  if (!/^#![^\n]+\r\n/.test(head.subarray(0, n).toString())) return
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^(#![^\n]+)\r\n/, '$1\n'))
}

/** bin-links' fix-bin on a file outside node_modules (a workspace's bin, reached through its link). */
function fixSourceBin (file: string): void {
  try {
    fs.chmodSync(file, execMode())
    dos2unix(file)
  } catch {}
}

/**
 * `install`: package.json and the lockfile, saved by the step of Arborist's
 * reify that saves them (registered as Symbol.for('saveIdealTree')), so
 * specs, save-prefix, save-type and the lockfile format are npm's own.
 */
async function saveIdealTree (arb: any): Promise<void> {
  try {
    await arb[Symbol.for('saveIdealTree')]({ ...arb.options, save: true })
  } catch (err) {
    const e = err as any
    throw new SafeInstallError('ESIWRITE', `node_modules was written, but package.json or the lockfile could not be saved (${e.code ?? 'error'}: ${String(e.message).split('\n')[0]})`, {
      cause: err,
      fix: 'check that package.json and package-lock.json are writable, then run `safe-install install` again',
    })
  }
}

function writeError (err: unknown, restored: boolean): SafeInstallError {
  if (err instanceof SafeInstallError) return err
  const e = err as any
  return new SafeInstallError('ESIWRITE', `writing node_modules failed (${e.code ?? 'error'}: ${String(e.message).split('\n')[0]})${restored ? '; the previous tree was restored' : '; node_modules was not touched'}`, {
    cause: err,
    fix: e.code === 'ENOSPC' ? 'free disk space and run again'
      : e.code === 'EXDEV' ? 'the cache and the project are on different file systems: set importMethod to auto or copy'
        : (e.code === 'ENOTSUP' || e.code === 'EOPNOTSUPP') ? 'this file system cannot clone files: set importMethod to auto'
          : 'run again; if it persists, report it with --loglevel verbose output',
  })
}
