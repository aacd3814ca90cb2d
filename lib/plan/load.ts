// lockfile + package.json -> Plan, through Arborist so the tree is exactly
// the one npm would build. `ci`/`verify` read the lockfile and check it is in
// sync with package.json (npm ci's rules); `install` resolves first.
import crypto from 'node:crypto'
import { createRequire } from 'node:module'
import fs from 'node:fs'
import path from 'node:path'
import { SafeInstallError } from '../errors.js'
import type { Options } from '../options.js'
import type { Plan, PlanEntry } from '../types.js'
import { cachedPlanFile, readCachedPlan, writeCachedPlan } from './cached.js'
import { classifySource } from './classify.js'
import type { TreeLayout } from '../write/tree-layout.js'
import type { KnownListing } from '../write/store.js'

const require = createRequire(import.meta.url)
// Arborist loads only when a tree has to be built: a warm `ci` reuses the cached plan
const arborist = (opts: Record<string, any>): any => new (require('@npmcli/arborist'))(opts)
const ARBORIST_VERSION: string = require('@npmcli/arborist/package.json').version
const SELF_VERSION: string = require('../../package.json').version

export interface LoadedPlan {
  plan: Plan
  /** the Arborist instance holding the ideal tree, for the writer (absent when the plan came from the cache) */
  arborist?: any
  /** the writer's layout of the last `ci` of this same lockfile, when the plan came from the cache */
  layout?: TreeLayout
  /** with that layout: the listing of each store entry it uses, by integrity (so the entries' indexes need not be read here) */
  listings?: Readonly<Record<string, KnownListing>>
  /** lockfile messages for ci (e.g. nothing to install) */
  lockfilePresent: boolean
  /** keeps the plan and the writer's layout (with its entries' listings) for the next `ci` of the same inputs */
  remember?: (layout: TreeLayout, listings?: Readonly<Record<string, KnownListing>>) => Promise<void>
}

export function arboristOptions (options: Options): Record<string, any> {
  const p = options.policy
  return {
    ...options.npmFlat,
    path: options.prefix,
    packageLock: true,
    ignoreScripts: true,
    // Arborist enforces these at resolution for `install`; the lockfile
    // policy enforces them for every entry
    allowGit: p.allowGit,
    allowRemote: p.allowRemote,
    allowFile: p.allowFile,
    allowDirectory: p.allowDirectory,
    workspaces: options.workspaces,
    workspacesEnabled: options.npmFlat.workspacesEnabled !== false,
    includeWorkspaceRoot: options.includeWorkspaceRoot,
    audit: false,
    fund: false,
  }
}

export function findLockfile (prefix: string): string | undefined {
  for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) {
    if (fs.existsSync(path.join(prefix, name))) return name
  }
  return undefined
}

/** The options that change the tree Arborist builds from a lockfile. */
const TREE_OPTIONS = ['legacyPeerDeps', 'strictPeerDeps', 'installStrategy', 'installLinks', 'force', 'lockfileVersion',
  'engineStrict', 'os', 'cpu', 'libc', 'omit', 'include', 'workspacesEnabled']

/**
 * Where the verdict "this lockfile is in sync with this package.json" is kept:
 * the same bytes, options and Arborist version give the same verdict, so a
 * warm `ci` need not build the lockfile's tree a second time to check it.
 * Undefined when other files take part (workspaces, links to folders).
 */
export function syncMarker (options: Options, pkg: any, pkgText: string, lockText: string): string | undefined {
  if (pkg.workspaces || /"link"\s*:\s*true/.test(lockText)) return undefined
  const h = crypto.createHash('sha256')
  h.update(`${SELF_VERSION}\0${ARBORIST_VERSION}\0`).update(pkgText).update('\0').update(lockText).update('\0')
  h.update(JSON.stringify([TREE_OPTIONS.map(k => options.npmFlat[k] ?? null), options.workspaces, options.includeWorkspaceRoot]))
  return path.join(options.cache, '_safe-install', 'in-sync', h.digest('hex'))
}

/** Parse JSON ourselves first: a truncated file gets a clear error naming it. Returns the text too. */
function readJsonStrict (file: string, what: string): { value: any, text: string } | undefined {
  const text = readText(file)
  return text === undefined ? undefined : { value: parseJsonStrict(file, what, text), text }
}

function readText (file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    throw new SafeInstallError('ESIBADJSON', `${file} cannot be read (${code ?? (err as Error).message})`, {
      path: file,
      fix: 'check that it is a readable file',
    })
  }
}

function parseJsonStrict (file: string, what: string, text: string): any {
  try {
    // npm accepts a UTF-8 byte order mark
    const value = JSON.parse(text.replace(/^\uFEFF/, ''))
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('expected a JSON object')
    return value
  } catch (err) {
    throw new SafeInstallError('ESIBADJSON', `${file} is not valid JSON (${(err as Error).message})`, {
      path: file,
      fix: what === 'lockfile'
        ? 'restore the lockfile from version control, or regenerate it with `safe-install install`'
        : 'fix the JSON syntax of package.json',
    })
  }
}

export async function loadPlan (options: Options, request: { mode: 'lockfile' | 'resolve', add?: string[], rm?: string[] }): Promise<LoadedPlan> {
  const prefix = options.prefix
  const pkgFile = path.join(prefix, 'package.json')
  const pkgRead = readJsonStrict(pkgFile, 'package.json')
  if (!pkgRead) {
    throw new SafeInstallError('ESIUSAGE', `no package.json in ${prefix}`, { path: pkgFile, fix: 'run safe-install in a project folder, or pass --prefix' })
  }
  const lockName = findLockfile(prefix)
  const lockFile = lockName && path.join(prefix, lockName)
  const lockText = lockFile ? readText(lockFile) : undefined
  // parsed here before Arborist reads it: a broken lockfile gets a clear error
  // (bytes found in sync before were parsed then: a cached plan needs no parse)
  const checkLockfile = (): void => {
    if (!lockFile || lockText === undefined) return
    if (!parseJsonStrict(lockFile, 'lockfile', lockText).lockfileVersion) {
      throw new SafeInstallError('ESIBADJSON', `${lockFile} has no lockfileVersion`, {
        path: lockFile,
        fix: 'regenerate the lockfile with `safe-install install`',
      })
    }
  }
  const arbOpts = arboristOptions(options)

  if (request.mode === 'lockfile') {
    if (!lockName) {
      throw new SafeInstallError('ESINOLOCK', `\`safe-install ${options.command}\` needs a package-lock.json or npm-shrinkwrap.json in ${prefix}`, {
        fix: 'run `safe-install install` to create one, and commit it',
      })
    }
    // npm ci's rule: the lockfile must describe what package.json asks for
    const marker = lockText !== undefined ? syncMarker(options, pkgRead.value, pkgRead.text, lockText) : undefined
    const planFile = marker && cachedPlanFile(options, marker)
    const remember = planFile && options.command === 'ci'
      ? (plan: Plan) => (layout: TreeLayout, listings?: Readonly<Record<string, KnownListing>>) => writeCachedPlan(planFile, { plan, layout, listings })
      : undefined
    if (marker && fs.existsSync(marker)) {
      const cached = planFile ? readCachedPlan(planFile, options) : undefined
      // ci needs the layout too; verify only the plan
      if (cached && (cached.layout || options.command === 'verify')) {
        return options.command === 'ci'
          ? { plan: cached.plan, layout: cached.layout, listings: cached.listings, lockfilePresent: true }
          : { plan: cached.plan, lockfilePresent: true }
      }
    }
    checkLockfile()
    if (marker && fs.existsSync(marker)) {
      const arb = arborist(arbOpts)
      await buildIdeal(arb, {}).catch((err: unknown) => { throw lockfileUnreadable(err, prefix, lockName) })
      const plan = planFromTree(arb.idealTree, options, lockName)
      return { plan, arborist: arb, lockfilePresent: true, remember: remember?.(plan) }
    }
    const virtualArb = arborist(arbOpts)
    const virtual = await virtualArb.loadVirtual().catch((err: Error) => {
      throw new SafeInstallError('ESIBADJSON', `${path.join(prefix, lockName)} could not be read: ${err.message}`, { path: path.join(prefix, lockName) })
    })
    const virtualInventory = new Map<string, any>(virtual.inventory)
    const arb = arborist(arbOpts)
    await buildIdeal(arb, {}).catch((err: unknown) => { throw lockfileUnreadable(err, prefix, lockName) })
    const errors: string[] = []
    for (const [key, entry] of arb.idealTree.inventory.entries()) {
      const locked = virtualInventory.get(key)
      if (!locked) errors.push(`Missing: ${entry.name}@${entry.version} from lock file`)
      else if (entry.version !== locked.version) errors.push(`Invalid: lock file's ${locked.name}@${locked.version} does not satisfy ${entry.name}@${entry.version}`)
    }
    if (errors.length) {
      throw new SafeInstallError('ESILOCKSYNC', `package.json and ${lockName} are out of sync:\n  ${errors.join('\n  ')}`, {
        path: path.join(prefix, lockName),
        fix: 'update the lockfile with `safe-install install` and commit it',
      })
    }
    if (marker) {
      try {
        fs.mkdirSync(path.dirname(marker), { recursive: true })
        fs.writeFileSync(marker, '')
      } catch {}
    }
    const plan = planFromTree(arb.idealTree, options, lockName)
    return { plan, arborist: arb, lockfilePresent: true, remember: remember?.(plan) }
  }

  checkLockfile()
  const arb = arborist(arbOpts)
  await buildIdeal(arb, { add: request.add ?? [], rm: request.rm ?? [], saveType: options.npmFlat.saveType })
  return { plan: planFromTree(arb.idealTree, options, lockName ?? 'package-lock.json'), arborist: arb, lockfilePresent: Boolean(lockName) }
}

function lockfileUnreadable (err: unknown, prefix: string, lockName: string): SafeInstallError {
  if (err instanceof SafeInstallError) return err
  // the lockfile parsed but an entry is not what npm writes (e.g. a number as version)
  return new SafeInstallError('ESIBADJSON', `${path.join(prefix, lockName)} has an entry npm cannot read: ${(err as Error).message.split('\n')[0]}`, {
    path: path.join(prefix, lockName),
    fix: 'restore the lockfile from version control, or regenerate it with `safe-install install`',
  })
}

async function buildIdeal (arb: any, opts: Record<string, unknown>): Promise<void> {
  try {
    await arb.buildIdealTree(opts)
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: string }
    if (e.code === 'EALLOWGIT' || e.code === 'EALLOWREMOTE' || e.code === 'EALLOWFILE' || e.code === 'EALLOWDIRECTORY') {
      const map: Record<string, 'ESIGIT' | 'ESIREMOTE' | 'ESIFILE' | 'ESIDIRECTORY'> = {
        EALLOWGIT: 'ESIGIT', EALLOWREMOTE: 'ESIREMOTE', EALLOWFILE: 'ESIFILE', EALLOWDIRECTORY: 'ESIDIRECTORY',
      }
      throw new SafeInstallError(map[e.code], e.message, { fix: 'see the source policy settings in the README (allowGit, allowRemote ...)' })
    }
    if (e.code === 'ERESOLVE' || e.code === 'ETARGET' || e.code === 'E404' || e.code === 'EINVALIDTAGNAME') {
      throw new SafeInstallError('ESIRESOLVE', `dependencies could not be resolved: ${e.message.split('\n')[0]}`, { cause: err })
    }
    if (e.code === 'ENOTCACHED') {
      throw new SafeInstallError('ESIOFFLINE', `resolution needs package data that is not in the cache (--offline): ${e.message.split('\n')[0]}`, { cause: err })
    }
    if (typeof e.code === 'string' && /^(ECONN|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|E5\d\d|FETCH_ERROR)/.test(e.code)) {
      throw new SafeInstallError('ESIFETCH', `the registry could not be reached while resolving: ${e.message.split('\n')[0]}`, { cause: err })
    }
    if (e.code === 'EJSONPARSE') {
      throw new SafeInstallError('ESIBADJSON', e.message.split('\n')[0], { path: (e as any).path })
    }
    throw err
  }
}

/** The nodes Arborist's reify would put on disk: not inert, not omitted, inside the selected workspaces. */
export function installedNodes (tree: any, options: Options): any[] {
  const omit = new Set<string>(options.omit)
  let nodes: any[] = [...tree.inventory.values()].filter((n: any) => !n.isProjectRoot && !n.inert && !n.shouldOmit(omit))
  if (options.workspaces.length) {
    // only what the selected workspaces (and the root, if included) reach
    const keep = new Set<any>()
    const visit = (n: any) => {
      const node = n.isLink ? n.target : n
      for (const x of [n, node]) {
        if (!x || keep.has(x)) continue
        keep.add(x)
        for (const edge of x.edgesOut.values()) if (edge.to && !edge.peer) visit(edge.to)
      }
    }
    for (const edge of tree.edgesOut.values()) {
      if (edge.to && edge.type === 'workspace' && options.workspaces.some(w => matchesWorkspace(edge.to, w, tree.path))) visit(edge.to)
      if (edge.to && edge.type !== 'workspace' && options.includeWorkspaceRoot) visit(edge.to)
    }
    nodes = nodes.filter(n => keep.has(n) || (n.inBundle && keep.has(bundler(n))))
  }
  return nodes
}

function bundler (n: any): any {
  let p = n.parent
  while (p && p.inBundle) p = p.parent
  return p
}

function matchesWorkspace (node: any, w: string, root: string): boolean {
  const target = node.isLink ? node.target : node
  return node.name === w || node.packageName === w || path.resolve(root, w) === target?.path
}

export function planFromTree (tree: any, options: Options, lockfile: string): Plan {
  const nodes = installedNodes(tree, options)
  const depsOf = (node: any): string[] => {
    const out: string[] = []
    for (const edge of node.edgesOut.values()) {
      if (edge.to && !edge.to.isProjectRoot) out.push(edge.to.location)
    }
    return [...new Set(out)].sort()
  }
  const entries: PlanEntry[] = nodes.map((node: any): PlanEntry => {
    // a link target's edges arrive at its links
    const links: any[] = [...(node.linksIn ?? [])]
    const edgesIn: any[] = [...node.edgesIn, ...links.flatMap(l => [...l.edgesIn])]
    const specs = edgesIn.map((e: any) => ({ name: e.name, spec: e.spec }))
    const pkg = node.package ?? {}
    // the lockfile writes a link's `resolved` as its target's location
    const resolved = node.isLink ? node.target?.location : node.resolved ?? undefined
    return {
      location: node.location,
      name: node.packageName ?? pkg.name ?? node.name,
      installName: node.name,
      version: node.version ?? pkg.version ?? '',
      resolved,
      integrity: node.integrity ?? undefined,
      source: classifySource({ resolved: node.isLink ? undefined : resolved, specs, isLink: node.isLink, isWorkspace: node.isWorkspace, isLinkTarget: links.length > 0 }),
      dev: Boolean(node.dev),
      optional: Boolean(node.optional),
      devOptional: Boolean(node.devOptional),
      peer: Boolean(node.peer),
      bundled: Boolean(node.inBundle),
      hasInstallScript: Boolean(node.hasInstallScript || pkg.hasInstallScript),
      isRootDependency: edgesIn.some((e: any) => e.from?.isProjectRoot || e.from?.isWorkspace),
      dependencies: depsOf(node.isLink && node.target ? node.target : node),
      license: typeof pkg.license === 'string' ? pkg.license : undefined,
    }
  }).sort((a, b) => a.location < b.location ? -1 : a.location > b.location ? 1 : 0)

  const workspaces = [...tree.edgesOut.values()]
    .filter((e: any) => e.type === 'workspace' && e.to)
    .map((e: any) => {
      const target = e.to.isLink ? e.to.target : e.to
      return { location: target.location, name: e.name, version: target.version ?? '', dependencies: depsOf(target) }
    })
  return {
    root: options.prefix,
    rootName: tree.packageName ?? tree.package?.name ?? path.basename(options.prefix),
    rootVersion: tree.version ?? tree.package?.version ?? '',
    lockfile,
    entries,
    rootDependencies: depsOf(tree),
    workspaces,
  }
}
