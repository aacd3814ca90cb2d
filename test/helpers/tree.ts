// Byte-for-byte snapshots of a folder, to prove an install changed nothing
// (refusals must leave node_modules untouched) or exactly what was expected.
import { createHash } from 'node:crypto'
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'

/**
 * relpath ('/'-separated) -> 'file <mode> <sha256>' | 'symlink <target>' | 'dir <mode>'.
 * Symlinks are recorded, never followed. A missing folder gives an empty map.
 */
export function snapshotTree (dir: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (abs: string, rel: string): void => {
    let names: string[]
    try {
      names = readdirSync(abs).sort()
    } catch (err: any) {
      if (err.code === 'ENOENT' && rel === '') return
      throw err
    }
    for (const name of names) {
      const a = join(abs, name)
      const r = rel ? `${rel}/${name}` : name
      const st = lstatSync(a)
      const mode = (st.mode & 0o7777).toString(8)
      if (st.isSymbolicLink()) out.set(r, `symlink ${readlinkSync(a)}`)
      else if (st.isDirectory()) {
        out.set(r, `dir ${mode}`)
        walk(a, r)
      } else if (st.isFile()) out.set(r, `file ${mode} ${createHash('sha256').update(readFileSync(a)).digest('hex')}`)
      else out.set(r, `other ${mode}`)
    }
  }
  walk(dir, '')
  return out
}

/** Paths added, removed or changed between two snapshots, sorted; empty when identical. */
export function diffTrees (before: Map<string, string>, after: Map<string, string>): string[] {
  const changed: string[] = []
  for (const [k, v] of before) {
    if (!after.has(k)) changed.push(`- ${k}`)
    else if (after.get(k) !== v) changed.push(`~ ${k}`)
  }
  for (const k of after.keys()) if (!before.has(k)) changed.push(`+ ${k}`)
  return changed.sort((a, b) => a.slice(2).localeCompare(b.slice(2)))
}
