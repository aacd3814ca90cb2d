// How one file of the verified content store becomes a file of
// node_modules: a copy-on-write clone, a hard link, or a plain copy
// (policy.importMethod). `auto` tries a clone once, then hard links, and
// copies when the store is on another device. Synchronous on purpose: these
// are single cheap system calls, and a loop of them beat the thread pool on
// ext4; a second loop on the side thread takes a share of the plain jobs
// (shared-links.ts).
import fs from 'node:fs'
import type { ImportMethod } from '../types.js'

export type ImportKind = 'clone' | 'hardlink' | 'copy'

export interface FileImporter {
  /** what `auto` settled on so far (or the forced method) */
  readonly kind: ImportKind
  /**
   * Makes `dst` hold the bytes of the store file `src`. `mode` is the mode
   * npm would give the file: applied to a clone or a copy. A hard link shares
   * the store file's inode, so it keeps the store's (read-only) mode: never
   * chmod a linked file.
   */
  import (src: string, dst: string, mode: number): ImportKind
  /**
   * A private file (never a hard link) with `mode`: for files whose mode must
   * differ from the store's, or that a package's own scripts may rewrite. A
   * clone where clones work, else a copy.
   */
  copy (src: string, dst: string, mode: number): void
  /** things worth telling once (fallbacks) */
  readonly notes: string[]
  /** files imported, by the kind actually used */
  readonly counts: Record<ImportKind, number>
}

const { COPYFILE_FICLONE_FORCE } = fs.constants

/** Error codes meaning "this file system cannot clone". */
const NO_CLONE = new Set(['ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EINVAL', 'EXDEV', 'ENOTTY', 'EBADF', 'EPERM'])

export function createImporter (method: ImportMethod): FileImporter {
  const notes: string[] = []
  const counts: Record<ImportKind, number> = { clone: 0, hardlink: 0, copy: 0 }
  // `auto` starts by trying a clone, once
  let kind: ImportKind = method === 'auto' ? 'clone' : method === 'hardlink' ? 'hardlink' : method
  let probing = method === 'auto'
  let toldLinkLimit = false

  const plainCopy = (src: string, dst: string, mode: number): void => {
    fs.copyFileSync(src, dst)
    fs.chmodSync(dst, mode)
    counts.copy++
  }

  const link = (src: string, dst: string, mode: number): ImportKind => {
    try {
      fs.linkSync(src, dst)
      counts.hardlink++
      return 'hardlink'
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EMLINK') {
        // the store file has as many links as the file system allows
        if (!toldLinkLimit) {
          notes.push('some store files reached the file system\'s hard link limit; those were copied')
          toldLinkLimit = true
        }
        plainCopy(src, dst, mode)
        return 'copy'
      }
      if (code === 'EXDEV' && method === 'auto') {
        notes.push('the content store is on another device than node_modules: files were copied, not hard linked (put the npm cache on the same file system for speed)')
        kind = 'copy'
        plainCopy(src, dst, mode)
        return 'copy'
      }
      if ((code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') && method === 'auto') {
        notes.push(`this file system does not allow hard links (${code}): files were copied`)
        kind = 'copy'
        plainCopy(src, dst, mode)
        return 'copy'
      }
      throw err
    }
  }

  return {
    get kind () { return kind },
    notes,
    counts,
    copy (src, dst, mode) {
      if (kind === 'clone' && !probing) {
        fs.copyFileSync(src, dst, COPYFILE_FICLONE_FORCE)
        fs.chmodSync(dst, mode)
        counts.clone++
      } else {
        plainCopy(src, dst, mode)
      }
    },
    import (src, dst, mode) {
      switch (kind) {
        case 'hardlink':
          return link(src, dst, mode)
        case 'copy':
          plainCopy(src, dst, mode)
          return 'copy'
        case 'clone':
          try {
            fs.copyFileSync(src, dst, COPYFILE_FICLONE_FORCE)
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code ?? ''
            if (!probing || !NO_CLONE.has(code)) throw err
            // no reflinks here: hard links from now on
            probing = false
            kind = 'hardlink'
            fs.rmSync(dst, { force: true })
            return link(src, dst, mode)
          }
          probing = false
          fs.chmodSync(dst, mode)
          counts.clone++
          return 'clone'
      }
    },
  }
}
