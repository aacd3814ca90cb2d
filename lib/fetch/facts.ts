// Immutable facts keyed by integrity (a signature verdict, a scan, a tar
// index): computed once ever, so a warm install redoes no work. JSON files
// under the cache; a torn or unreadable file is simply a miss.
//
// A project's facts are also kept together in one snapshot file, so a warm
// install reads one file instead of several thousand small ones. The
// snapshot is only a faster path to the same files: a fact it lacks is
// looked up on disk, and it is rewritten only when the run learned something.
// It also lists the facts the last run looked for and did not have (most
// verdicts are only kept when positive), so those cost no file lookup either;
// at worst such a fact is computed again, as on a first run.
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { writeCacheFile } from '../cache-file.js'
import type { FactCache } from '../evidence/check.js'

const SNAPSHOT_VERSION = 2

interface Snapshot {
  v: number
  /** [kind + NUL + key, value] */
  facts: [string, unknown][]
  /** kind + NUL + key of facts looked for and not found */
  missing: string[]
}

export class DiskFacts implements FactCache {
  private readonly memory = new Map<string, unknown>()
  /** facts this run read or wrote: what the next snapshot holds */
  private readonly used = new Set<string>()
  /** facts the snapshot says were missing */
  private readonly knownMissing = new Set<string>()
  /** facts this run looked for and did not have: the next snapshot's `missing` */
  private readonly missed = new Set<string>()
  private dirty = false
  private snapshotFile?: string

  constructor (private readonly dir: string) {}

  private file (kind: string, key: string): string {
    const h = crypto.createHash('sha256').update(key).digest('hex')
    return path.join(this.dir, kind, h.slice(0, 2), h.slice(2) + '.json')
  }

  /** Loads the snapshot named by `name` (e.g. the project folder); `saveSnapshot` rewrites it. */
  async loadSnapshot (name: string): Promise<number> {
    const h = crypto.createHash('sha256').update(name).digest('hex')
    this.snapshotFile = path.join(this.dir, 'snapshots', `${h}.json`)
    try {
      const snap = JSON.parse(await fs.readFile(this.snapshotFile, 'utf8')) as Snapshot
      if (snap?.v !== SNAPSHOT_VERSION || !Array.isArray(snap.facts) || !Array.isArray(snap.missing)) return 0
      for (const pair of snap.facts) {
        if (Array.isArray(pair) && typeof pair[0] === 'string') this.memory.set(pair[0], pair[1])
      }
      for (const id of snap.missing) if (typeof id === 'string') this.knownMissing.add(id)
      return snap.facts.length
    } catch {
      return 0
    }
  }

  /** Writes the snapshot when this run read a fact it lacked or learned a new one. */
  async saveSnapshot (): Promise<void> {
    if (!this.snapshotFile) return
    const sameMissing = this.missed.size === this.knownMissing.size && [...this.missed].every(id => this.knownMissing.has(id))
    if (!this.dirty && sameMissing && this.used.size === this.memory.size) return
    const snap: Snapshot = {
      v: SNAPSHOT_VERSION,
      facts: [...this.used].map(id => [id, this.memory.get(id)]),
      missing: [...this.missed].filter(id => !this.memory.has(id)),
    }
    if (await writeCacheFile(this.snapshotFile, snap)) this.dirty = false
  }

  async get<T = unknown> (kind: string, key: string): Promise<T | undefined> {
    const id = kind + '\0' + key
    if (this.memory.has(id)) {
      this.used.add(id)
      return this.memory.get(id) as T
    }
    this.missed.add(id)
    if (this.knownMissing.has(id)) return undefined
    try {
      const parsed = JSON.parse(await fs.readFile(this.file(kind, key), 'utf8'))
      if (parsed?.key !== key) return undefined
      this.missed.delete(id)
      this.memory.set(id, parsed.value)
      this.used.add(id)
      this.dirty = true
      return parsed.value as T
    } catch {
      return undefined
    }
  }

  async set (kind: string, key: string, value: unknown): Promise<void> {
    const id = kind + '\0' + key
    this.memory.set(id, value)
    this.missed.delete(id)
    this.used.add(id)
    this.dirty = true
    await writeCacheFile(this.file(kind, key), { key, value })
  }
}

/** For `--no-cache`-like runs and tests. */
export class MemoryFacts implements FactCache {
  private readonly m = new Map<string, unknown>()
  async get<T> (kind: string, key: string): Promise<T | undefined> { return this.m.get(kind + '\0' + key) as T | undefined }
  async set (kind: string, key: string, value: unknown): Promise<void> { this.m.set(kind + '\0' + key, value) }
}
