// `ci` hard-links package files from the read-only content store. Before a
// package's own scripts run (and may rewrite its files, as native builds
// do), its files become private, writable copies, so nothing a script does
// can reach the store or another project.
import fs from 'node:fs'
import path from 'node:path'

/** Replaces every hard-linked file under `dir` (symlinks not followed) with a writable copy; returns how many. */
export function privatizeFiles (dir: string): number {
  const writable = 0o222 & ~process.umask()
  let count = 0
  const walk = (d: string): void => {
    let names: fs.Dirent[]
    try {
      names = fs.readdirSync(d, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of names) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) {
        walk(p)
        continue
      }
      if (!e.isFile()) continue
      const st = fs.lstatSync(p)
      if (st.nlink < 2) continue
      // copy beside, then rename over the link: the path always holds the bytes
      const tmp = `${p}.safe-install-${process.pid}`
      fs.copyFileSync(p, tmp)
      fs.chmodSync(tmp, (st.mode & 0o7777) | writable)
      fs.renameSync(tmp, p)
      count++
    }
  }
  walk(dir)
  return count
}
