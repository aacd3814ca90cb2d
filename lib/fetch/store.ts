// Where verified tarballs live: a cacache of safe-install's own under the
// npm cache folder. The writer installs only from here, so nothing that was
// not verified in this run can reach node_modules. npm's own cache is read
// as a second source; both are re-verified on every read (SCVS 4.14).
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import ssri from 'ssri'

const require = createRequire(import.meta.url)
// loaded on first use: a replayed ci reads no tarball
let cacacheModule: any
const cacache = (): any => (cacacheModule ??= require('cacache'))
let contentPathModule: ((cache: string, integrity: string) => string) | undefined
const contentPath = (cache: string, integrity: string): string => (contentPathModule ??= require('cacache/lib/content/path.js'))(cache, integrity)

export interface StorePaths {
  /** safe-install's verified tarball store (a cacache) */
  store: string
  /** npm's cacache (`<cache>/_cacache`) */
  npmCache: string
  /** facts cache folder */
  facts: string
}

export function storePaths (cache: string): StorePaths {
  return {
    store: path.join(cache, '_safe-install', 'tarballs'),
    npmCache: path.join(cache, '_cacache'),
    facts: path.join(cache, '_safe-install', 'facts'),
  }
}

export type CacheRead =
  | { status: 'hit', data: Buffer }
  | { status: 'miss' }
  | { status: 'corrupt', reason: string }

/** Reads content by integrity; cacache verifies the bytes. Corrupt content is evicted. */
export async function readVerified (cachePath: string, integrity: string): Promise<CacheRead> {
  try {
    const data: Buffer = await cacache().get.byDigest(cachePath, integrity)
    return { status: 'hit', data }
  } catch (err) {
    const code = (err as any).code
    if (code === 'ENOENT') return { status: 'miss' }
    if (code === 'EINTEGRITY' || code === 'EBADSIZE') {
      await cacache().rm.content(cachePath, integrity).catch(() => {})
      return { status: 'corrupt', reason: code }
    }
    throw err
  }
}

export async function putVerified (cachePath: string, key: string, data: Buffer, integrity: string): Promise<void> {
  await cacache().put(cachePath, key, data, { integrity })
}

/**
 * The same read, synchronously (for a check that asks for file contents of a
 * package whose bytes the fetch step did not need to load). Undefined when
 * the content is missing or does not match.
 */
export function readVerifiedSync (cachePath: string, integrity: string): Buffer | undefined {
  let data: Buffer
  try {
    data = fs.readFileSync(contentPath(cachePath, integrity))
  } catch {
    return undefined
  }
  return ssri.checkData(data, integrity) ? data : undefined
}
