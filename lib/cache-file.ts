// Files safe-install keeps under the cache folder (facts and their
// snapshots, run state, cached plans, record templates): written under a temporary name and
// renamed into place, so a reader finds the old file or the new one, never
// half of one. Best effort: a cache file that cannot be written only costs a
// later run the work it would have saved.
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'

/** Writes `value` as JSON to `file`; false (and nothing left behind) when it could not. */
export async function writeCacheFile (file: string, value: unknown): Promise<boolean> {
  return writeCacheData(file, JSON.stringify(value))
}

/** Writes `data` as it is to `file`; false (and nothing left behind) when it could not. */
export async function writeCacheData (file: string, data: string | Uint8Array): Promise<boolean> {
  // pid and random: two runs, or two writes of one run, never share a temporary name
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`
  try {
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(tmp, data)
    await fs.rename(tmp, file)
    return true
  } catch {
    await fs.rm(tmp, { force: true }).catch(() => {})
    return false
  }
}
