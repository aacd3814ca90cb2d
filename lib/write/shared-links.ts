// Hard-linking a replay's files is two thirds of its write, and the side
// thread is idle by then: the plain jobs (every file of an entry, hard
// links, nothing excluded or fixed) are shared between the two threads, each
// claiming the next job from a counter in shared memory, as the store check
// does. Two threads link 37,000 files in about 0.36 s where one takes 0.5 s
// on ext4 here.
import { turn } from '../fetch/pool.js'
import { createImporter, type ImportKind } from './import-file.js'
import { claimed } from './store.js'

/** A job to share: the entry's files folder, the staged folder, the entry's paths and their npm modes. */
export type SharedJob = readonly [src: string, dst: string, paths: readonly string[], modes: readonly number[]]

export interface Linked {
  /** the positions linked, every file */
  readonly done: number[]
  readonly counts: Record<ImportKind, number>
  /** fallbacks worth telling (createImporter's notes) */
  readonly notes: readonly string[]
  /** the error that stopped this thread's share; the write fails with it */
  readonly failed?: { readonly message: string, readonly code?: string }
}

/**
 * Links the jobs claimed from `claim` as hard links, with createImporter's
 * fallback (a copy past the hard link limit), yielding every `every` files
 * so that the thread's other jobs get their turn. An error ends the share
 * and is reported, not thrown: a rejection means the thread itself failed.
 */
export async function linkClaimedYielding (jobs: readonly SharedJob[], claim: Int32Array, every = 2048): Promise<Linked> {
  const importer = createImporter('hardlink')
  const done: number[] = []
  let n = 0
  try {
    for (const p of claimed(claim, jobs.length)) {
      const [src, dst, paths, modes] = jobs[p]
      for (let i = 0; i < paths.length; i++) importer.import(`${src}/${paths[i]}`, `${dst}/${paths[i]}`, modes[i])
      done.push(p)
      if ((n += paths.length) >= every) {
        n = 0
        await turn()
      }
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return { done, counts: importer.counts, notes: importer.notes, failed: { message: e.message ?? String(err), code: e.code } }
  }
  return { done, counts: importer.counts, notes: importer.notes }
}
