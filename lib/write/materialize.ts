// Writer v2 (`ci`): the tree Arborist would reify, built from the verified
// content store in a staging folder beside node_modules and swapped in.
//
// 1. the nodes npm would put on disk (installedNodes) and, for each one that
//    comes from a tarball, its verified store entry (extracted once per
//    integrity, checked before reuse: lib/write/store.ts)
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
import { createRequire } from 'node:module'
import { SafeInstallError } from '../errors.js'
import type { Options } from '../options.js'
import { installedNodes } from '../plan/load.js'
import type { RunNote } from '../types.js'
import { createImporter, type FileImporter, type ImportKind } from './import-file.js'
import { buildEntry, contentStoreRoot, ensureEntries, entryDir, execMode, type FileRow, type StoreEntry, type StoreEvent } from './store.js'
import { recoverSwap, STAGING, StagedSwap } from './swap.js'
import type { TreeWriter, WriteInput } from './writer.js'

const require = createRequire(import.meta.url)
const { Shrinkwrap } = require('@npmcli/arborist')
const normalizeBin: (pkg: Record<string, any>) => Record<string, any> = require('npm-normalize-package-bin')
const localeCompare: (a: string, b: string) => number = require('@isaacs/string-locale-compare')('en')

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
}

/** A node whose files come from a store entry. */
interface FileJob {
  node: any
  entry: StoreEntry
  /** final absolute folder */
  final: string
  /** folder in staging */
  staged: string
  /** entry paths (relative) owned by nested nodes: their files come from elsewhere */
  exclude: string[]
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
  private swap?: StagedSwap

  constructor (private readonly opts: MaterializeWriterOptions = {}) {}

  get timings (): Readonly<Record<string, number>> | undefined {
    return this.stats?.timings
  }

  async recover (options: Options): Promise<string[]> {
    return recoverSwap(options.prefix)
  }

  // extracting while the other packages are fetched saves reading, hashing
  // and unzipping every tarball a second time in write()
  async keep (integrity: string, data: Buffer, options: Options): Promise<void> {
    if (this.holds(integrity, options)) return
    await buildEntry(contentStoreRoot(options.cache), integrity, data).then(() => {}, () => {})
  }

  // an entry with its index is complete; ensureEntries checks its files before use
  holds (integrity: string, options: Options): boolean {
    try {
      return fs.existsSync(path.join(entryDir(contentStoreRoot(options.cache), integrity), 'index.json'))
    } catch {
      return false
    }
  }

  /** Resolves when the previous trees of the last write are removed. Await before exit (or before releasing the lock). */
  settle (): Promise<void> {
    return this.swap?.cleanup() ?? Promise.resolve()
  }

  private note (message: string, level: 'info' | 'warning' = 'info'): void {
    const n: RunNote = { check: 'write', message, level }
    this.notes.push(n)
    this.opts.onNote?.(n)
  }

  async write (input: WriteInput): Promise<void> {
    const { options, loaded, verified, paths } = input
    this.notes = []
    this.events = []
    const timings: Record<string, number> = {}
    let t = performance.now()
    const lap = (name: string) => { const now = performance.now(); timings[name] = now - t; t = now }

    const tree = loaded.arborist.idealTree
    const prefix = path.resolve(options.prefix)
    const nodes = installedNodes(tree, options)

    // ---- 1. what goes where
    const links: any[] = []
    const fileNodes: { node: any, integrity: string }[] = []
    const bundled: any[] = []
    for (const node of nodes) {
      if (node.isLink) {
        if (!node.isUndeclaredWorkspaceLink) links.push(node)
        continue
      }
      if (!node.parent) continue // a workspace or directory folder: it is its own source
      if (node.inDepBundle) { bundled.push(node); continue }
      const pkg = verified.get(node.location)
      if (!pkg) {
        throw new SafeInstallError('ESIWRITE', `no verified tarball for ${node.location} (${node.packageName ?? node.name}@${node.version}): nothing unverified is installed`, {
          path: node.location,
          fix: 'this source type is not supported by this writer; report it',
        })
      }
      fileNodes.push({ node, integrity: pkg.integrity })
    }

    let ensured
    try {
      ensured = await ensureEntries(contentStoreRoot(options.cache), paths.store, fileNodes.map(f => f.integrity), { concurrency: this.opts.concurrency })
    } catch (err) {
      throw writeError(err, false)
    }
    for (const ev of ensured.events) {
      this.events.push(ev)
      this.note(`store entry ${ev.integrity.slice(0, 20)}… was ${ev.kind === 'changed' ? 'changed on disk' : 'unreadable'} (${ev.detail}): deleted and extracted again from the verified tarball`, 'warning')
    }
    lap('store')

    const layout = new Layout(prefix)
    const jobs: FileJob[] = fileNodes.map(({ node, integrity }) => ({
      node,
      entry: ensured.entries.get(integrity)!,
      final: node.path,
      staged: layout.staged(node.path),
      exclude: [],
      fixed: new Set<string>(),
    }))
    const jobAt = new Map<string, FileJob>(jobs.map(j => [j.final, j]))
    const linkAt = new Map<string, any>(links.map(l => [l.path, l]))

    // nested nodes own their folders: npm empties a folder before extracting into it
    const owners = [...jobAt.keys(), ...linkAt.keys()]
    for (const job of jobs) {
      if (!job.entry.hasNodeModules) continue
      for (const p of owners) if (p.startsWith(job.final + path.sep)) job.exclude.push(toPosix(path.relative(job.final, p)))
    }
    // bundled dependencies come with their bundler's files
    for (const node of bundled) {
      const bundler = node.getBundler()
      const job = bundler && jobAt.get(bundler.path)
      if (!job || !job.entry.byPath.has(toPosix(path.relative(bundler.path, node.path)) + '/package.json')) {
        throw new SafeInstallError('ESIWRITE', `${node.location} (${node.packageName ?? node.name}@${node.version}) is bundled, but ${bundler ? `the tarball of ${bundler.location}` : 'no tarball'} does not contain it`, {
          path: node.location,
          fix: 'the lockfile does not match the bundling package; regenerate it',
        })
      }
    }

    const linkJobs: SymlinkJob[] = links.map(l => ({ staged: layout.staged(l.path), target: linkTarget(l) }))

    // ---- bins, as Arborist's rebuild and bin-links make them
    const exists = (abs: string, depth = 0): boolean => {
      for (let p = abs; ; p = path.dirname(p)) {
        const job = jobAt.get(p)
        if (job) {
          const rel = toPosix(path.relative(p, abs))
          return rel === '' || job.entry.byPath.has(rel) || dirsOf(job.entry).has(rel)
        }
        const link = linkAt.get(p)
        if (link && depth < 8) return exists(path.resolve(link.realpath, path.relative(p, abs)), depth + 1)
        if (layout.isFinalRoot(p)) return p === abs
        if (p === path.dirname(p)) break
      }
      return lstatOk(abs) // bin-links lstat()s the target
    }
    const fixOutside: string[] = []
    const markFixed = (abs: string): void => {
      for (let p = abs; ; p = path.dirname(p)) {
        const job = jobAt.get(p)
        if (job) { job.fixed.add(toPosix(path.relative(p, abs))); return }
        const link = linkAt.get(p)
        if (link) { markFixed(path.resolve(link.realpath, path.relative(p, abs))); return }
        if (layout.isFinalRoot(p) || p === path.dirname(p)) break
      }
      fixOutside.push(abs) // a workspace's own file, through its link
    }
    const bins: SymlinkJob[] = []
    const binDirs = new Set<string>()
    if (options.npmFlat.binLinks !== false) {
      const seen = new Set<string>()
      const byDepthPath = (a: any, b: any) => (a.depth - b.depth) || localeCompare(a.path, b.path)
      const linkTargets = new Set(links.map(l => l.target))
      const depNodes = [...jobs.map(j => j.node), ...bundled].filter(n => !linkTargets.has(n)).sort(byDepthPath)
      for (const node of [...depNodes, ...[...links].sort(byDepthPath)]) {
        const bin = node.package?.bin
        if (!bin || node.isTop) continue
        const normal = normalizeBin({ name: node.package.name, bin }).bin
        if (!normal) continue
        const binDir = path.join(nodeModulesOf(node.path), '.bin')
        for (const [key, val] of Object.entries(normal) as [string, string][]) {
          const to = path.resolve(binDir, key)
          if (seen.has(to)) continue
          seen.add(to)
          const absFrom = path.resolve(node.path, val)
          if (!exists(absFrom)) continue
          bins.push({ staged: layout.staged(to), target: path.relative(path.dirname(to), absFrom) })
          binDirs.add(layout.staged(binDir))
          markFixed(absFrom)
        }
      }
    }
    lap('plan')

    // ---- the folders, computed once: one mkdir each, parents first
    const dirSet = new Set<string>()
    const addParents = (p: string): void => {
      for (let d = p; !layout.isStagingRoot(d) && !dirSet.has(d); d = path.dirname(d)) dirSet.add(d)
    }
    for (const job of jobs) {
      addParents(job.staged)
      for (const rel of dirsOf(job.entry)) if (!excluded(job, rel)) dirSet.add(job.staged + '/' + rel)
    }
    for (const l of linkJobs) addParents(path.dirname(l.staged))
    for (const d of binDirs) addParents(d)
    const recordDir = options.record.enabled && layout.hasRoot(prefix) ? path.join(layout.stagingOf(prefix), '.safe-install') : undefined
    if (recordDir) dirSet.add(recordDir)
    const dirs = [...dirSet].sort()

    // the swap covers the root, every workspace, and every other folder getting a node_modules
    const swapDirs = [...new Set([prefix, ...loaded.plan.workspaces.map((w: any) => path.resolve(prefix, w.location)), ...layout.roots()])]
    const swap = new StagedSwap(prefix, swapDirs)
    const importer = createImporter(options.policy.importMethod)
    let fileCount = 0
    try {
      await swap.begin()
      for (const root of layout.roots()) {
        const staging = layout.stagingOf(root)
        fs.rmSync(staging, { recursive: true, force: true })
        fs.mkdirSync(staging)
      }
      for (const d of dirs) fs.mkdirSync(d)
      lap('mkdir')
      for (const job of jobs) fileCount += importFiles(job, importer)
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
      if (layout.hasRoot(prefix)) await writeHiddenLockfile(tree, nodes, loaded.arborist.options, path.join(layout.stagingOf(prefix), '.package-lock.json'))
      lap('lockfile')
      await swap.moveAside()
      await swap.putInPlace(layout.roots())
      // commit point: from here on the new tree is the one to keep
      await swap.commit()
    } catch (err) {
      await swap.rollback().catch(() => {})
      throw writeError(err, true)
    }
    this.swap = swap
    if (layout.hasRoot(prefix)) {
      // the swap renamed folders npm's hidden lockfile check stats: it must stay the newest thing
      const now = new Date()
      try { fs.utimesSync(path.join(prefix, 'node_modules', '.package-lock.json'), now, now) } catch {}
    }
    for (const abs of fixOutside) fixSourceBin(abs)
    lap('swap')
    if (input.save) {
      await saveIdealTree(loaded.arborist)
      lap('save')
    }
    void swap.cleanup().catch(() => {})

    for (const n of importer.notes) this.note(n)
    this.stats = {
      nodes: nodes.length,
      entriesReused: ensured.reused,
      entriesExtracted: ensured.extracted,
      dirs: dirs.length,
      files: fileCount,
      links: linkJobs.length,
      bins: bins.length,
      imported: { ...importer.counts },
      timings,
    }
  }
}

// ------------------------------------------------------------------ helpers

function toPosix (p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/')
}

function lstatOk (p: string): boolean {
  try { fs.lstatSync(p); return true } catch { return false }
}

/** Where the new node_modules folders are, and their staging folders. */
class Layout {
  private readonly byRoot = new Map<string, string>() // <dir>/node_modules -> <dir>/.safe-install-staging-node_modules
  private readonly dirsWithTree = new Set<string>()
  private readonly stagingRoots = new Set<string>()
  constructor (private readonly prefix: string) {}

  /** <dir>/node_modules/rest -> <dir>/.safe-install-staging-node_modules/rest (registering <dir>). */
  staged (abs: string): string {
    const segs = path.relative(this.prefix, abs).split(path.sep)
    const i = segs.indexOf('node_modules')
    if (i < 0) throw new Error(`not inside a node_modules folder: ${abs}`)
    const dir = path.resolve(this.prefix, ...segs.slice(0, i))
    const nm = path.join(dir, 'node_modules')
    if (!this.byRoot.has(nm)) {
      const staging = path.join(dir, STAGING)
      this.byRoot.set(nm, staging)
      this.dirsWithTree.add(dir)
      this.stagingRoots.add(staging)
    }
    const rest = segs.slice(i + 1)
    return rest.length ? path.join(this.byRoot.get(nm)!, ...rest) : this.byRoot.get(nm)!
  }

  roots (): string[] { return [...this.dirsWithTree] }
  hasRoot (dir: string): boolean { return this.dirsWithTree.has(dir) }
  stagingOf (dir: string): string { return path.join(dir, STAGING) }
  isStagingRoot (p: string): boolean { return this.stagingRoots.has(p) || p === path.dirname(p) }
  isFinalRoot (p: string): boolean { return this.byRoot.has(p) }
}

/** bin-links' get-node-modules: the node_modules folder a package folder sits in. */
function nodeModulesOf (p: string): string {
  const scopeOrNm = path.dirname(p)
  return path.basename(scopeOrNm) === 'node_modules' ? scopeOrNm : path.dirname(scopeOrNm)
}

/** The symlink target Arborist's reify writes for a Link (#extractOrLink). */
function linkTarget (node: any): string {
  const dir = path.dirname(node.path)
  const target = node.realpath
  if (!node.resolved?.startsWith('file:')) return path.relative(dir, target)
  // #calculateRelativePath: a root override of a file: spec wins
  let hasRootOverride = [...node.edgesIn].some((edge: any) => edge.from.isRoot && edge.overrides)
  if (!hasRootOverride && node.root) {
    const rootPackage = node.root.target
    hasRootOverride = !!(rootPackage && rootPackage.package.overrides && rootPackage.package.overrides[node.name])
  }
  if (!hasRootOverride) return path.relative(dir, target)
  const overrideSpec = node.root?.target?.package?.overrides?.[node.name]
  if (typeof overrideSpec === 'string' && overrideSpec.startsWith('file:')) {
    return path.relative(dir, path.resolve(node.root.target.path, overrideSpec.replace(/^file:/, '')))
  }
  return path.join(node.resolved.replace(/^file:/, ''))
}

const dirCache = new WeakMap<StoreEntry, Set<string>>()
/** Every folder of an entry (relative, posix), parents included. */
function dirsOf (entry: StoreEntry): Set<string> {
  let dirs = dirCache.get(entry)
  if (!dirs) {
    dirs = new Set<string>()
    for (const row of entry.index.files) {
      let i = row[0].lastIndexOf('/')
      while (i > 0) {
        const d = row[0].slice(0, i)
        if (dirs.has(d)) break
        dirs.add(d)
        i = d.lastIndexOf('/')
      }
    }
    dirCache.set(entry, dirs)
  }
  return dirs
}

function excluded (job: FileJob, rel: string): boolean {
  for (const x of job.exclude) if (rel === x || rel.startsWith(x + '/')) return true
  return false
}

/** Imports the files of one node from its store entry; returns how many. */
function importFiles (job: FileJob, importer: FileImporter): number {
  const { entry, staged, fixed } = job
  const src = entry.filesDir + '/'
  const dst = staged + '/'
  const exe = execMode()
  let n = 0
  for (const row of entry.index.files) {
    const rel = row[0]
    if (job.exclude.length && excluded(job, rel)) continue
    n++
    const storeFixed = row[5] !== undefined
    const npmFixed = fixed.has(rel)
    if (storeFixed === npmFixed) {
      // linked even for packages with install scripts: scripts never run here, and
      // `safe-install rebuild` makes a package's files private copies before its scripts run
      importer.import(src + rel, dst + rel, row[4])
    } else if (storeFixed) {
      // the store made this bin target executable, but no bin links to it here
      const [mode, hasOrig] = row[5] as [number, 0 | 1]
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
 * node_modules/.package-lock.json as reify saves it: the lockfile's own
 * top-level fields, and a `packages` entry (Shrinkwrap.metaFromNode) for
 * every node on disk, written by Arborist's Shrinkwrap class itself.
 */
async function writeHiddenLockfile (tree: any, nodes: any[], arbOptions: any, file: string): Promise<void> {
  const meta = new Shrinkwrap({ path: tree.path, hiddenLockfile: true, resolveOptions: arbOptions })
  meta.reset()
  const data = tree.meta?.data ?? {}
  for (const [k, v] of Object.entries(data)) {
    if (k !== 'packages' && k !== 'dependencies' && k !== 'lockfileVersion' && k !== 'requires') meta.data[k] = v
  }
  for (const node of nodes) {
    if (node === tree || node.isRoot) continue
    const loc = toPosix(path.relative(tree.path, node.path))
    // Shrinkwrap.commit drops extraneous top-level folders outside node_modules
    if (node.extraneous && !/(^|\/)node_modules\//.test(loc) && loc !== 'node_modules' && (!node.fsParent || node.fsParent.isRoot)) continue
    meta.add(node)
  }
  meta.filename = file
  await meta.save()
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
