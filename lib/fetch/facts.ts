// Immutable facts keyed by integrity (a signature verdict, a scan, a tar
// index): computed once ever, so a warm install redoes no work. JSON files
// under the cache; a torn or unreadable file is simply a miss.
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { FactCache } from '../evidence/check.js'

export class DiskFacts implements FactCache {
  private readonly memory = new Map<string, unknown>()
  constructor (private readonly dir: string) {}

  private file (kind: string, key: string): string {
    const h = crypto.createHash('sha256').update(key).digest('hex')
    return path.join(this.dir, kind, h.slice(0, 2), h.slice(2) + '.json')
  }

  async get<T = unknown> (kind: string, key: string): Promise<T | undefined> {
    const id = kind + '\0' + key
    if (this.memory.has(id)) return this.memory.get(id) as T
    try {
      const parsed = JSON.parse(await fs.readFile(this.file(kind, key), 'utf8'))
      if (parsed?.key !== key) return undefined
      this.memory.set(id, parsed.value)
      return parsed.value as T
    } catch {
      return undefined
    }
  }

  async set (kind: string, key: string, value: unknown): Promise<void> {
    this.memory.set(kind + '\0' + key, value)
    const file = this.file(kind, key)
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`
    try {
      await fs.mkdir(path.dirname(file), { recursive: true })
      await fs.writeFile(tmp, JSON.stringify({ key, value }))
      await fs.rename(tmp, file)
    } catch {
      await fs.rm(tmp, { force: true }).catch(() => {})
    }
  }
}

/** For `--no-cache`-like runs and tests. */
export class MemoryFacts implements FactCache {
  private readonly m = new Map<string, unknown>()
  async get<T> (kind: string, key: string): Promise<T | undefined> { return this.m.get(kind + '\0' + key) as T | undefined }
  async set (kind: string, key: string, value: unknown): Promise<void> { this.m.set(kind + '\0' + key, value) }
}
