// Fetch and verify one lockfile entry (SCVS 4.13/4.14): bytes from the
// verified store, npm's cache or the network, always checked against the
// lockfile integrity; the registry's current integrity must agree (a
// republished version is refused); the tarball's structure and manifest
// must match the entry. Nothing here writes to node_modules.
import fs from 'node:fs/promises'
import path from 'node:path'
import ssri from 'ssri'
import { SafeInstallError } from '../errors.js'
import type { Options } from '../options.js'
import { checkBins, checkTarballStructure } from '../policy/tarball-structure.js'
import { checkTarballUrl, type RegistryConfig, registryFor } from '../policy/lockfile-urls.js'
import type { PlanEntry, TarEntry, VerifiedPackage, Violation } from '../types.js'
import type { RegistryClient } from './client.js'
import type { Packuments } from './packuments.js'
import { putVerified, readVerified, readVerifiedSync, type StorePaths } from './store.js'
import type { Budget } from './budget.js'
import { declaredInflatedSize, indexTarball, type TarIndex } from './tar-index.js'
import { reduceVersionDoc, versionDocKey } from './version-facts.js'
import type { FactCache } from '../evidence/check.js'

export interface VerifyDeps {
  options: Options
  client: RegistryClient
  packuments: Packuments
  paths: StorePaths
  registries: RegistryConfig
  /** from the lockfile URL policy: location -> tarball URL */
  urls: ReadonlyMap<string, string>
  /** immutable facts by integrity (version documents the registry agreed with) */
  facts?: FactCache
  /**
   * True when the writer already holds this integrity's files, extracted from
   * bytes verified in an earlier run and checked unchanged before use: then
   * the tarball need not be read (its listing is a cached fact).
   */
  held?: (integrity: string) => boolean
  /** given the bytes (the tarball, or the tar already inflated from it) once they passed every check here: the writer may extract them now */
  keep?: (integrity: string, data: Buffer) => Promise<void>
  /** bounds the bytes held from inflating a tarball until the outcome's release() */
  budget?: Budget
}

export type VerifyOutcome =
  | { ok: true, pkg: VerifiedPackage, release: () => void, violations: Violation[] }
  | { ok: false, violations: Violation[] }

/** Strongest hash of the lockfile integrity, as one SRI string. */
export function pickIntegrity (integrity: string): string {
  const parsed = ssri.parse(integrity)
  if (!parsed || !Object.keys(parsed).length) throw new SafeInstallError('ESINOINTEGRITY', `unreadable integrity "${integrity.slice(0, 40)}"`)
  const algo = parsed.pickAlgorithm()
  const hashes = parsed[algo]!
  // npm writes one digest per algorithm; two would let either set of bytes
  // pass while the signature and provenance speak for only one of them
  if (hashes.length !== 1) throw new SafeInstallError('ESINOINTEGRITY', `ambiguous integrity: ${hashes.length} ${algo} digests`)
  return hashes[0].toString()
}

export async function verifyEntry (entry: PlanEntry, deps: VerifyDeps): Promise<VerifyOutcome> {
  // what the budget holds for this package goes back with release(), or now
  // when the package is refused or verifying it throws
  const budgeted = { letGo: (): void => {} }
  try {
    const outcome = await verify(entry, deps, budgeted)
    if (!outcome.ok) budgeted.letGo()
    return outcome
  } catch (err) {
    budgeted.letGo()
    throw err
  }
}

async function verify (entry: PlanEntry, deps: VerifyDeps, budgeted: { letGo: () => void }): Promise<VerifyOutcome> {
  const spec = `${entry.name}@${entry.version}`
  const refuse = (code: string, message: string, fix?: string): VerifyOutcome =>
    ({ ok: false, violations: [{ code, message, package: spec, path: entry.location, fix }] })
  if (!entry.integrity) {
    return refuse('ESINOINTEGRITY', `${spec} has no integrity, so its bytes cannot be checked`, 'regenerate the lockfile entry')
  }
  let integrity: string
  try {
    integrity = pickIntegrity(entry.integrity)
  } catch (err) {
    return refuse('ESINOINTEGRITY', `${spec} has an unusable integrity in the lockfile: ${(err as Error).message}`, 'regenerate the lockfile entry')
  }
  const registry = registryFor(entry.name, deps.registries)
  let url = deps.urls.get(entry.location) ?? entry.resolved ?? ''
  let registryManifest: Record<string, any> | undefined

  if (entry.source === 'registry') {
    // a version the registry already confirmed for this integrity needs no request
    const docKey = versionDocKey(registry, entry.name, entry.version, integrity)
    const cached = deps.options.npmFlat.preferOnline ? undefined : await deps.facts?.get<Record<string, any>>('version-doc-v1', docKey)
    const doc = cached ?? (await deps.packuments.abbreviated(entry.name, registry))?.versions?.[entry.version]
    if (!doc) {
      return refuse('ESINOTFOUND', `the registry (${new URL(registry).host}) has no ${spec}`,
        'check the registry configured for this package; the version may have been unpublished')
    }
    registryManifest = doc
    const current = doc.dist?.integrity as string | undefined
    if (current && !integrityAgrees(current, entry.integrity)) {
      return refuse('ESIREPUBLISHED',
        `the registry's integrity for ${spec} (${current.slice(0, 20)}…) differs from the lockfile's (${entry.integrity.slice(0, 20)}…): the version was republished or the registry is serving other bytes`,
        'do not install; investigate the package. If you trust the new bytes, update the lockfile entry deliberately')
    }
    if (!cached && deps.facts) await deps.facts.set('version-doc-v1', docKey, reduceVersionDoc(doc))
    if (!entry.resolved && typeof doc.dist?.tarball === 'string') {
      // with no `resolved`, the registry names the tarball: same rules apply
      const judged = checkTarballUrl(entry, doc.dist.tarball, deps.registries, 'dist.tarball')
      if (judged.violation) return { ok: false, violations: [judged.violation] }
      url = judged.url
    }
  }

  // the list of entries and the manifest never change for an integrity: parse
  // each tarball once ever; file contents are read again only if a check asks
  let listing = await deps.facts?.get<TarListing>('tar-listing-v1', integrity)
  const skipBytes = listing !== undefined && deps.held?.(integrity) === true

  let data: Buffer | undefined
  let from: 'network' | 'cache' = 'cache'
  let corrupt = false
  let cameFrom: string | undefined
  for (const cachePath of skipBytes ? [] : [deps.paths.store, deps.paths.npmCache]) {
    const read = await readVerified(cachePath, integrity)
    if (read.status === 'hit') { data = read.data; cameFrom = cachePath; break }
    if (read.status === 'corrupt') corrupt = true
  }

  if (!data && !skipBytes) {
    if (deps.options.offline) {
      return corrupt
        ? refuse('ESICACHECORRUPT', `the cached tarball of ${spec} does not match its integrity (corrupt or tampered cache); it was evicted, and --offline forbids fetching it again`, 'run again without --offline to refetch it')
        : refuse('ESIOFFLINE', `${spec} is not in the cache and --offline forbids the network`, 'run once online, or drop --offline')
    }
    from = 'network'
    const got = await fetchVerified(entry, url, integrity, deps)
    if ('violation' in got) return { ok: false, violations: [got.violation] }
    data = got.data
  }

  let index: TarIndex | undefined
  if (!listing) {
    // the tarball, the tar inflated from it and the files kept for the checks
    if (deps.budget) budgeted.letGo = await deps.budget.acquire(data!.length + declaredInflatedSize(data!))
    try {
      index = indexTarball(data!)
    } catch (err) {
      return refuse('ESITARPATH', `${spec} is not a readable tarball: ${(err as Error).message}`)
    }
    listing = { files: index.files, manifest: index.manifest, manifestError: index.manifestError }
  }
  const violations: Violation[] = [...checkTarballStructure(spec, entry.location, listing.files)]
  const manifest = listing.manifest
  if (!manifest) {
    violations.push({ code: 'ESIMANIFEST', message: `${spec}: ${listing.manifestError}`, package: spec, path: entry.location })
  } else {
    violations.push(...checkBins(spec, entry.location, manifest))
    if (entry.source === 'registry' && (manifest.name !== entry.name || manifest.version !== entry.version)) {
      violations.push({
        code: 'ESIMANIFEST',
        message: `the tarball for ${spec} contains package.json of ${manifest.name}@${manifest.version}`,
        package: spec,
        path: entry.location,
        fix: 'do not install; the registry served another package under this name',
      })
    }
  }
  if (violations.length) return { ok: false, violations }
  if (index) await deps.facts?.set('tar-listing-v1', integrity, listing)
  if (data && cameFrom !== deps.paths.store) {
    await putVerified(deps.paths.store, `safe-install:${spec}`, data, integrity)
  }
  // the store can extract the tar inflated for the index, not inflate it again;
  // nothing else keeps the inflated tar
  const tar = index?.tar
  if (index) index.tar = undefined
  if (data && deps.keep) await deps.keep(integrity, tar ?? data)
  // with the index, the checks read its kept files: the tarball is not needed
  let bytes: Buffer | undefined = index ? undefined : data
  let loaded = data !== undefined
  const pkg: VerifiedPackage = {
    entry,
    integrity,
    from,
    tarballUrl: url,
    registry,
    manifest: manifest!,
    registryManifest,
    files: listing.files,
    readFile: (p: string) => {
      if (!bytes && !loaded) {
        // the fetch step skipped the bytes; a check wants contents after all
        loaded = true
        bytes = readVerifiedSync(deps.paths.store, integrity) ?? readVerifiedSync(deps.paths.npmCache, integrity)
      }
      if (!index && bytes) index = indexTarball(bytes)
      return index?.contents.get(p)
    },
  }
  // after the checks: drop the bytes and contents (the store keeps the tarball)
  const release = () => { bytes = undefined; index = undefined; budgeted.letGo() }
  return { ok: true, pkg, release, violations: [] }
}

interface TarListing {
  files: TarEntry[]
  manifest?: Record<string, any>
  manifestError?: string
}

/** Both integrities must share an algorithm and agree on it. */
export function integrityAgrees (registry: string, lockfile: string): boolean {
  const a = ssri.parse(registry)
  const b = ssri.parse(lockfile)
  const shared = Object.keys(a).filter(k => k in b)
  if (!shared.length) return true // nothing comparable (e.g. sha1 vs sha512): the bytes are still checked
  return shared.every(algo => a[algo]!.some((x: any) => b[algo]!.some((y: any) => x.digest === y.digest)))
}

async function fetchVerified (entry: PlanEntry, url: string, integrity: string, deps: VerifyDeps): Promise<{ data: Buffer } | { violation: Violation }> {
  const spec = `${entry.name}@${entry.version}`
  if (entry.source === 'file') {
    const file = path.resolve(deps.options.prefix, (entry.resolved ?? '').replace(/^file:/, ''))
    const data = await fs.readFile(file)
    return ssri.checkData(data, integrity)
      ? { data }
      : { violation: { code: 'ESIINTEGRITY', message: `${file} does not match the lockfile integrity of ${spec}`, package: spec, path: entry.location } }
  }
  // a body cut short or bytes that do not match are retried like a
  // transient error, then refused: never installed
  const retries = Math.max(0, Number(deps.options.npmFlat.retry?.retries ?? 2))
  let last: Violation | undefined
  for (let attempt = 0; attempt <= retries; attempt++) {
    let data: Buffer
    try {
      data = await deps.client.tarball(url, spec)
    } catch (err) {
      if ((err as any).code === 'ESHORTBODY') {
        last = { code: 'ESIFETCH', message: `${spec}: ${(err as Error).message} from ${new URL(url).host}`, package: spec, path: entry.location, fix: 'retry later; the connection was cut' }
        continue
      }
      if (err instanceof SafeInstallError) {
        return { violation: { code: err.code, message: err.message, package: spec, path: entry.location, fix: err.fix } }
      }
      throw err
    }
    if (ssri.checkData(data, integrity)) return { data }
    last = {
      code: 'ESIINTEGRITY',
      message: `the tarball of ${spec} from ${new URL(url).host} does not match the lockfile integrity (got ${ssri.fromData(data, { algorithms: ['sha512'] }).toString().slice(0, 24)}…)`,
      package: spec,
      path: entry.location,
      fix: 'do not install: the registry or something between served other bytes than the lockfile pins',
    }
  }
  return { violation: last! }
}
