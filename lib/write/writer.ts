// The one interface that puts a verified tree on disk. Nothing else may
// depend on how it is done (Arborist's reify today, a verified store and a
// staged swap later).
import type { LoadedPlan } from '../plan/load.js'
import type { Options } from '../options.js'
import type { RunNote, VerifiedPackage } from '../types.js'
import type { StorePaths } from '../fetch/store.js'
import type { TreeLayout } from './tree-layout.js'
import type { KnownListing } from './store.js'

export interface WriteInput {
  readonly options: Options
  readonly loaded: LoadedPlan
  /** every fetched entry, verified, by lockfile location */
  readonly verified: ReadonlyMap<string, VerifiedPackage>
  readonly paths: StorePaths
  /** write package.json and the lockfile too (`install`) */
  readonly save: boolean
  /** the store entries were handed to checkAhead() just before: use that check */
  readonly checkedAhead?: boolean
  /**
   * Called once the staged folders exist, with the staging folder that
   * becomes `<prefix>/node_modules/.safe-install`: what the caller writes
   * there (the install record) is swapped in with the tree. The swap waits
   * for the promise returned; if it fails, nothing is swapped in. `dropped`
   * aborts when the staged tree is abandoned: write nothing there then.
   */
  readonly stageRecord?: (stagedDir: string, dropped: AbortSignal) => Promise<void> | undefined
}

export interface StagedWrite {
  /** swaps the staged trees in (same guarantees as write()) */
  commit (): Promise<void>
  /** removes what was staged; node_modules was never touched */
  abort (): Promise<void>
}

export interface TreeWriter {
  /** Recovers from an interrupted earlier write (call under the project lock). */
  recover (options: Options): Promise<string[]>
  /**
   * True when the writer already holds the files of this integrity, made from
   * bytes verified in an earlier run and checked unchanged before they are
   * used; the fetch step then need not read the tarball again.
   */
  holds? (integrity: string, options: Options, known?: KnownListing): boolean
  /**
   * Takes a package's bytes as soon as they are verified against the lockfile
   * (while others are still being fetched), e.g. to extract them into a
   * content store. Never touches the project; failures are left to write().
   */
  keep? (integrity: string, data: Buffer, options: Options): Promise<void>
  /**
   * The integrities the next write will use, known before it starts: their
   * stored files may be checked meanwhile (elsewhere than on this thread).
   * Only a write with `checkedAhead` uses the outcome.
   */
  checkAhead? (integrities: readonly string[], options: Options): void
  /** Writes the tree; on failure the previous tree is back as it was, and it throws ESIWRITE. */
  write (input: WriteInput): Promise<void>
  /**
   * write() in two steps: everything but the swap (node_modules untouched),
   * then commit() or abort(). For a caller that can build the tree while
   * the last verdicts are still coming in.
   */
  stage? (input: WriteInput): Promise<StagedWrite>
  /** where the last write's time went, by step (for --timing) */
  readonly timings?: Readonly<Record<string, number>>
  /** what the last write laid out, when the writer can reuse it for the same lockfile (see LoadedPlan.remember) */
  readonly layout?: TreeLayout
  /** the listing of each store entry that layout uses, remembered with it: a later holds() gets it back as `known` */
  listings? (): Record<string, KnownListing> | undefined
  /** What the last write wants the user told (store entries repaired, copy fallback). */
  readonly notes?: readonly RunNote[]
  /** Resolves when background clean-up of the old tree is done (before the lock is released). */
  settle? (): Promise<void>
}
