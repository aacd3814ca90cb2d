// The staged swap both writers share: the previous node_modules folders are
// moved aside, the new ones put in place, and a journal makes the switch
// recoverable after a crash.
//
//   begin()       journal `<prefix>/.safe-install-swap.json` {dirs, had}
//   moveAside()   <dir>/node_modules -> <dir>/.safe-install-previous-node_modules
//   putInPlace()  <dir>/.safe-install-staging-node_modules -> <dir>/node_modules
//                 (MaterializeWriter; ArboristWriter's reify writes in place)
//   commit()      the journal is renamed to `<prefix>/.safe-install-cleanup-<pid>-<id>.json`:
//                 the commit point (no journal = the new tree is the good one);
//                 then each previous tree is renamed to `<prefix>/.safe-install-trash-<pid>-<id>-<n>`
//   cleanup()     removes the trash, then the cleanup file (may run after the
//                 process's main work; the event loop keeps the process alive
//                 until it is done)
//   rollback()    before the commit point: staging removed, new trees
//                 removed, previous trees put back
//
// recover(), under the project lock, finishes what a crashed run left: with a
// journal it rolls back; with a cleanup file of a process that is gone it
// removes that run's previous trees and trash.
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Worker } from 'node:worker_threads'
import { startWorker } from '../offload/start-worker.js'
import { processAlive } from './alive.js'

export const PREVIOUS = '.safe-install-previous-node_modules'
export const STAGING = '.safe-install-staging-node_modules'
export const JOURNAL = '.safe-install-swap.json'
const CLEANUP_PREFIX = '.safe-install-cleanup-'
const TRASH_PREFIX = '.safe-install-trash-'

interface Journal {
  dirs: string[]
  /** dirs that had a node_modules when the swap began (absent in journals of older versions) */
  had?: string[]
}

async function exists (p: string): Promise<boolean> {
  return fs.lstat(p).then(() => true, () => false)
}

const rmrf = (p: string) => fs.rm(p, { recursive: true, force: true, maxRetries: 2 })

// Removing an old tree is ~40k unlink()s. Done with async fs calls they
// would fill libuv's thread pool and stall whatever runs meanwhile (the
// record, the report); done synchronously they would block the event loop.
// So a worker thread does it, synchronously: one readdir per folder, one
// unlink per file, one rmdir per folder (fs.rm also lstat()s every entry).
const REMOVE_WORKER = `
const fs = require('node:fs')
const path = require('node:path')
const { workerData } = require('node:worker_threads')
function rm (p) {
  let entries
  try {
    entries = fs.readdirSync(p, { withFileTypes: true })
  } catch (err) {
    if (err.code === 'ENOENT') return
    if (err.code === 'ENOTDIR') return fs.unlinkSync(p)
    throw err
  }
  for (const e of entries) {
    const child = path.join(p, e.name)
    if (e.isDirectory()) rm(child)
    else fs.unlinkSync(child)
  }
  fs.rmdirSync(p)
}
for (const p of workerData) {
  try { rm(p) } catch { fs.rmSync(p, { recursive: true, force: true, maxRetries: 2 }) }
}
`

/** Removes whole trees off the main thread; falls back to fs.rm. */
export function removeTrees (paths: readonly string[]): Promise<void> {
  if (!paths.length) return Promise.resolve()
  const fallback = () => Promise.all(paths.map(p => rmrf(p))).then(() => {})
  return new Promise<void>(resolve => {
    let worker: Worker
    try {
      worker = startWorker(REMOVE_WORKER, { eval: true, workerData: [...paths] })
    } catch {
      resolve(fallback())
      return
    }
    let failed = false
    worker.once('error', () => { failed = true })
    // whatever is left (a failure in the worker) goes the slow way
    worker.once('exit', () => resolve(failed ? fallback() : Promise.all(paths.map(p => exists(p).then(left => left ? rmrf(p) : undefined))).then(() => {})))
  })
}

function trashPath (prefix: string, id: string, n: number): string {
  return path.join(prefix, `${TRASH_PREFIX}${id}-${n}`)
}

/** Finishes or undoes what an interrupted earlier write left (call under the project lock). */
export async function recoverSwap (prefix: string): Promise<string[]> {
  const journalFile = path.join(prefix, JOURNAL)
  const done: string[] = []
  let journal: Journal | undefined
  let text: string | undefined
  try {
    text = await fs.readFile(journalFile, 'utf8')
  } catch {}
  if (text !== undefined) {
    try {
      const parsed = JSON.parse(text)
      if (Array.isArray(parsed?.dirs)) journal = parsed
    } catch {}
  }
  if (journal) {
    // interrupted before the commit point: the old trees are the good ones
    for (const dir of journal.dirs) {
      const nm = path.join(dir, 'node_modules')
      const prev = path.join(dir, PREVIOUS)
      await rmrf(path.join(dir, STAGING))
      if (await exists(prev)) {
        await rmrf(nm)
        await fs.rename(prev, nm)
        done.push(`restored ${nm} after an interrupted install`)
      } else if (journal.had && !journal.had.includes(dir) && await exists(nm)) {
        // there was none before: this one is an unfinished new tree
        await rmrf(nm)
        done.push(`removed the unfinished ${nm} of an interrupted install`)
      }
    }
  } else {
    // no journal (or one torn while being written, before anything moved):
    // a previous tree left here belongs to a committed install
    await rmrf(path.join(prefix, PREVIOUS))
    await rmrf(path.join(prefix, STAGING))
  }
  await fs.rm(journalFile, { force: true })

  // committed installs whose clean-up did not finish
  let names: string[] = []
  try { names = await fs.readdir(prefix) } catch {}
  for (const name of names) {
    const m = /^\.safe-install-cleanup-(\d+)-([0-9a-f]+)\.json$/.exec(name)
    if (!m || processAlive(Number(m[1]))) continue
    const file = path.join(prefix, name)
    const id = `${m[1]}-${m[2]}`
    let dirs: string[] = []
    try { dirs = JSON.parse(await fs.readFile(file, 'utf8')).dirs ?? [] } catch {}
    for (let i = 0; i < dirs.length; i++) {
      await rmrf(trashPath(prefix, id, i))
      await rmrf(path.join(dirs[i], PREVIOUS))
      await rmrf(path.join(dirs[i], STAGING))
    }
    await fs.rm(file, { force: true })
  }
  // trash of a run that is gone (its cleanup file already removed, or never written)
  for (const name of names) {
    const m = /^\.safe-install-trash-(\d+)-/.exec(name)
    if (m && !processAlive(Number(m[1]))) await rmrf(path.join(prefix, name))
  }
  return done
}

export class StagedSwap {
  private readonly journalFile: string
  private readonly had = new Set<string>()
  private readonly moved = new Set<string>()
  private readonly placed = new Set<string>()
  private begun = false
  private committed = false
  private cleanupFile?: string
  private trash: string[] = []
  private cleaning?: Promise<void>

  /** `dirs`: absolute folders whose node_modules is replaced (the root first). */
  constructor (readonly prefix: string, readonly dirs: readonly string[]) {
    this.journalFile = path.join(prefix, JOURNAL)
  }

  /** Writes the journal; nothing is moved yet. */
  async begin (): Promise<void> {
    for (const dir of this.dirs) if (await exists(path.join(dir, 'node_modules'))) this.had.add(dir)
    await fs.writeFile(this.journalFile, JSON.stringify({ dirs: [...this.dirs], had: [...this.had] } satisfies Journal))
    this.begun = true
  }

  /** Moves each existing node_modules aside. */
  async moveAside (): Promise<void> {
    for (const dir of this.dirs) {
      if (!this.had.has(dir)) continue
      await fs.rename(path.join(dir, 'node_modules'), path.join(dir, PREVIOUS))
      this.moved.add(dir)
    }
  }

  /** Renames each staged tree (`<dir>/.safe-install-staging-node_modules`) to node_modules. */
  async putInPlace (staged: readonly string[]): Promise<void> {
    for (const dir of staged) {
      await fs.rename(path.join(dir, STAGING), path.join(dir, 'node_modules'))
      this.placed.add(dir)
    }
  }

  /**
   * The commit point, then the previous trees are renamed out of the way
   * (into the project folder, so removing them later changes no mtime npm's
   * hidden lockfile check looks at). Returns once the new trees are final;
   * cleanup() removes the old ones.
   */
  async commit (): Promise<void> {
    const id = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`
    const cleanupFile = path.join(this.prefix, `${CLEANUP_PREFIX}${id}.json`)
    await fs.rename(this.journalFile, cleanupFile)
    this.committed = true
    this.cleanupFile = cleanupFile
    for (let i = 0; i < this.dirs.length; i++) {
      const dir = this.dirs[i]
      if (!this.moved.has(dir)) continue
      const prev = path.join(dir, PREVIOUS)
      const trash = trashPath(this.prefix, id, i)
      try {
        await fs.rename(prev, trash)
        this.trash.push(trash)
      } catch {
        this.trash.push(prev) // another device: removed in place
      }
    }
  }

  /** Removes the previous trees (after commit). Idempotent; the same promise for every caller. */
  cleanup (): Promise<void> {
    if (!this.committed) return Promise.resolve()
    this.cleaning ??= (async () => {
      await removeTrees(this.trash)
      if (this.cleanupFile) await fs.rm(this.cleanupFile, { force: true })
    })()
    return this.cleaning
  }

  /** Before the commit point: removes what was staged or written, and puts the previous trees back. */
  async rollback (): Promise<void> {
    if (this.committed) return
    for (const dir of this.dirs) {
      await rmrf(path.join(dir, STAGING)).catch(() => {})
      if (!this.begun) continue // nothing was moved: node_modules is the old tree
      if (this.moved.has(dir) || this.placed.has(dir) || !this.had.has(dir)) {
        // what is at node_modules now is not the old tree
        await rmrf(path.join(dir, 'node_modules')).catch(() => {})
      }
      if (this.moved.has(dir)) await fs.rename(path.join(dir, PREVIOUS), path.join(dir, 'node_modules')).catch(() => {})
    }
    if (this.begun) await fs.rm(this.journalFile, { force: true })
  }
}
