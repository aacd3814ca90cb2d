// A warm `ci` of a lockfile already installed here needs neither Arborist's
// tree nor its loading: the plan and the writer's layout of the last `ci` of
// the same bytes and options are kept beside the in-sync verdict and reused.
// Everything in them is a function of those inputs; the packages themselves
// are still verified one by one against the lockfile integrity.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { writeCacheFile } from '../cache-file.js'
import type { Options } from '../options.js'
import type { Plan } from '../types.js'
import { validListing, type KnownListing } from '../write/store.js'
import { LAYOUT_VERSION, validLayout, type TreeLayout } from '../write/tree-layout.js'

export interface CachedPlan {
  readonly plan: Plan
  readonly layout?: TreeLayout
  /** the listing of each store entry the layout uses, by integrity (see lib/write/store.ts listedEntry) */
  readonly listings?: Readonly<Record<string, KnownListing>>
}

/** The options, beyond the lockfile's tree options, that change the plan or the layout. */
const LAYOUT_OPTIONS = ['registry', 'replaceRegistryHost', 'omitLockfileRegistryResolved', 'binLinks']

/** `<cache>/_safe-install/plans/<hash>.json`, from the in-sync marker and what else shapes the result. */
export function cachedPlanFile (options: Options, marker: string): string {
  const h = crypto.createHash('sha256')
  h.update(JSON.stringify([LAYOUT_VERSION, path.basename(marker), path.resolve(options.prefix), options.omit,
    options.registry, options.scopedRegistries, LAYOUT_OPTIONS.map(k => options.npmFlat[k] ?? null)]))
  return path.join(options.cache, '_safe-install', 'plans', `${h.digest('hex')}.json`)
}

export function readCachedPlan (file: string, options: Options): CachedPlan | undefined {
  let doc: any
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
  const plan = doc?.plan
  if (!plan || plan.root !== options.prefix || !Array.isArray(plan.entries) || !Array.isArray(plan.workspaces)) return undefined
  if (doc.layout !== undefined && !validLayout(doc.layout)) return undefined
  // listings in a bad shape are only left unused: the entries' indexes are read instead
  const listings = doc.listings && typeof doc.listings === 'object' && Object.values(doc.listings).every(validListing) ? doc.listings : undefined
  return { plan, layout: doc.layout, listings }
}

export async function writeCachedPlan (file: string, value: CachedPlan): Promise<void> {
  await writeCacheFile(file, value)
}
