// What the writer puts where, computed once from Arborist's ideal tree and
// the store entries' file lists: a plain, serializable description (paths
// relative to the project), so that a warm `ci` of the same lockfile can lay
// out the same tree without building it in Arborist again.
import path from 'node:path'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { SafeInstallError } from '../errors.js'
import type { EntryFiles, StoreEntry } from './store.js'
import { STAGING } from './swap.js'

const require = createRequire(import.meta.url)

// 2: remembered with the listings of the entries it uses (a plan cached by 1 has none, and would never get them)
export const LAYOUT_VERSION = 2

/** One package folder filled from a store entry. */
export interface LayoutFiles {
  /** lockfile location (the key of its verified package) */
  readonly location: string
  /** the folder, relative to the project (posix) */
  readonly path: string
  readonly integrity: string
  /** entry paths owned by nested packages: their files come from elsewhere */
  readonly exclude: readonly string[]
  /** entry paths of bin targets bin-links makes executable in this install */
  readonly fixed: readonly string[]
}

export interface LayoutLink {
  /** the symlink, relative to the project (posix) */
  readonly path: string
  /** what it points to, as written */
  readonly target: string
}

export interface TreeLayout {
  readonly v: number
  /** nodes Arborist would put on disk */
  readonly nodes: number
  readonly files: readonly LayoutFiles[]
  /** links to folders (workspaces, file: dependencies) */
  readonly links: readonly LayoutLink[]
  readonly bins: readonly LayoutLink[]
  /** files outside node_modules bin-links fixes (a workspace's bin), relative to the project */
  readonly fixOutside: readonly string[]
  /** npm's hidden lockfile text, when the project root gets a node_modules */
  readonly hiddenLockfile?: string
}

/** Where the new node_modules folders are, and their staging folders. */
export class StagingLayout {
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
    const rest = segs.slice(i + 1)
    const staging = this.register(dir)
    return rest.length ? path.join(staging, ...rest) : staging
  }

  /**
   * staged() of a path relative to the project, as a layout has them (posix,
   * normalized): the same result without resolving it and taking it apart
   * again, for each of the thousands of folders a replay lays out.
   */
  stagedRel (rel: string): string {
    const segs = rel.split('/')
    const i = segs.indexOf('node_modules')
    if (i < 0 || segs.some(s => s === '' || s === '.' || s === '..')) return this.staged(path.resolve(this.prefix, rel))
    const staging = this.register(i === 0 ? this.prefix : this.prefix + path.sep + segs.slice(0, i).join(path.sep))
    return i === segs.length - 1 ? staging : staging + path.sep + segs.slice(i + 1).join(path.sep)
  }

  private register (dir: string): string {
    const nm = path.join(dir, 'node_modules')
    let staging = this.byRoot.get(nm)
    if (staging === undefined) {
      staging = path.join(dir, STAGING)
      this.byRoot.set(nm, staging)
      this.dirsWithTree.add(dir)
      this.stagingRoots.add(staging)
    }
    return staging
  }

  roots (): string[] { return [...this.dirsWithTree] }
  hasRoot (dir: string): boolean { return this.dirsWithTree.has(dir) }
  stagingOf (dir: string): string { return path.join(dir, STAGING) }
  isStagingRoot (p: string): boolean { return this.stagingRoots.has(p) || p === path.dirname(p) }
  isFinalRoot (p: string): boolean { return this.byRoot.has(p) }
}

function toPosix (p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/')
}

const dirCache = new WeakMap<EntryFiles, Set<string>>()
/** Every folder of an entry (relative, posix), parents included. */
export function dirsOf (entry: EntryFiles): Set<string> {
  let dirs = dirCache.get(entry)
  if (!dirs) {
    dirs = new Set<string>()
    for (const p of entry.listing.paths) {
      let i = p.lastIndexOf('/')
      while (i > 0) {
        const d = p.slice(0, i)
        if (dirs.has(d)) break
        dirs.add(d)
        i = d.lastIndexOf('/')
      }
    }
    dirCache.set(entry, dirs)
  }
  return dirs
}

/**
 * The layout of `nodes` (installedNodes of `tree`): which store entry fills
 * which folder, the links and bins as Arborist and bin-links make them,
 * bundled dependencies from their bundler's files, npm's hidden lockfile.
 * `entryOf` gives the checked store entry of a node's verified integrity.
 */
export function layoutFromTree (tree: any, nodes: any[], prefix: string, arbOptions: any, binLinks: boolean,
  integrityOf: (node: any) => string | undefined, entryOf: (integrity: string) => StoreEntry): TreeLayout {
  const rel = (abs: string) => toPosix(path.relative(prefix, abs))
  const staging = new StagingLayout(prefix)
  const links: any[] = []
  const jobs: { node: any, integrity: string, entry: StoreEntry, exclude: string[], fixed: Set<string> }[] = []
  const bundled: any[] = []
  for (const node of nodes) {
    if (node.isLink) {
      if (!node.isUndeclaredWorkspaceLink) links.push(node)
      continue
    }
    if (!node.parent) continue // a workspace or directory folder: it is its own source
    if (node.inDepBundle) { bundled.push(node); continue }
    const integrity = integrityOf(node)
    if (!integrity) {
      throw new SafeInstallError('ESIWRITE', `no verified tarball for ${node.location} (${node.packageName ?? node.name}@${node.version}): nothing unverified is installed`, {
        path: node.location,
        fix: 'this source type is not supported by this writer; report it',
      })
    }
    jobs.push({ node, integrity, entry: entryOf(integrity), exclude: [], fixed: new Set() })
  }
  for (const j of jobs) staging.staged(j.node.path)
  for (const l of links) staging.staged(l.path)
  const jobAt = new Map(jobs.map(j => [j.node.path as string, j]))
  const linkAt = new Map<string, any>(links.map(l => [l.path, l]))

  // nested nodes own their folders: npm empties a folder before extracting into it
  const owners = [...jobAt.keys(), ...linkAt.keys()]
  for (const job of jobs) {
    if (!job.entry.hasNodeModules) continue
    const final = job.node.path
    for (const p of owners) if (p.startsWith(final + path.sep)) job.exclude.push(toPosix(path.relative(final, p)))
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

  // ---- bins, as Arborist's rebuild and bin-links make them
  const exists = (abs: string, depth = 0): boolean => {
    for (let p = abs; ; p = path.dirname(p)) {
      const job = jobAt.get(p)
      if (job) {
        const r = toPosix(path.relative(p, abs))
        return r === '' || job.entry.byPath.has(r) || dirsOf(job.entry).has(r)
      }
      const link = linkAt.get(p)
      if (link && depth < 8) return exists(path.resolve(link.realpath, path.relative(p, abs)), depth + 1)
      if (staging.isFinalRoot(p)) return p === abs
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
      if (staging.isFinalRoot(p) || p === path.dirname(p)) break
    }
    fixOutside.push(rel(abs)) // a workspace's own file, through its link
  }
  const bins: LayoutLink[] = []
  if (binLinks) {
    const normalizeBin: (pkg: Record<string, any>) => Record<string, any> = require('npm-normalize-package-bin')
    const localeCompare: (a: string, b: string) => number = require('@isaacs/string-locale-compare')('en')
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
        bins.push({ path: rel(to), target: path.relative(path.dirname(to), absFrom) })
        markFixed(absFrom)
      }
    }
  }

  return {
    v: LAYOUT_VERSION,
    nodes: nodes.length,
    files: jobs.map(j => ({ location: j.node.location, path: rel(j.node.path), integrity: j.integrity, exclude: j.exclude, fixed: [...j.fixed] })),
    links: links.map(l => ({ path: rel(l.path), target: linkTarget(l) })),
    bins,
    fixOutside,
    hiddenLockfile: staging.hasRoot(prefix) ? hiddenLockfileText(tree, nodes, arbOptions) : undefined,
  }
}

function lstatOk (p: string): boolean {
  try { fs.lstatSync(p); return true } catch { return false }
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

/**
 * node_modules/.package-lock.json as reify saves it: the lockfile's own
 * top-level fields, and a `packages` entry (Shrinkwrap.metaFromNode) for
 * every node on disk, rendered by Arborist's Shrinkwrap class itself.
 */
function hiddenLockfileText (tree: any, nodes: any[], arbOptions: any): string {
  const { Shrinkwrap } = require('@npmcli/arborist')
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
  return meta.toString()
}

/**
 * A layout read back from the cache is only used when it is well formed and
 * stays inside the project; anything else is treated as absent.
 */
export function validLayout (x: any): x is TreeLayout {
  if (!x || x.v !== LAYOUT_VERSION || typeof x.nodes !== 'number') return false
  const inside = (p: unknown) => typeof p === 'string' && p !== '' && !path.isAbsolute(p) && !p.split('/').includes('..')
  const strings = (a: unknown) => Array.isArray(a) && a.every(s => typeof s === 'string')
  if (!Array.isArray(x.files) || !x.files.every((f: any) => f && inside(f.path) && typeof f.location === 'string' &&
    typeof f.integrity === 'string' && strings(f.exclude) && strings(f.fixed))) return false
  for (const list of [x.links, x.bins]) {
    if (!Array.isArray(list) || !list.every((l: any) => l && inside(l.path) && typeof l.target === 'string')) return false
  }
  return Array.isArray(x.fixOutside) && x.fixOutside.every(inside) && (x.hiddenLockfile === undefined || typeof x.hiddenLockfile === 'string')
}
