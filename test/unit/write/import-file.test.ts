// Import methods: hard link (shares the read-only store inode), copy and
// clone (own inode, npm's mode), auto (clone once, then links; copies across
// devices and says so once).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createImporter } from '../../../lib/write/import-file.js'

let tmp: string
let src: string
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-import-'))
  src = path.join(tmp, 'store-file')
  fs.writeFileSync(src, 'content\n')
  fs.chmodSync(src, 0o444)
})
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }) })

const canClone = (() => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'si-clone-probe-'))
  try {
    fs.writeFileSync(path.join(d, 'a'), 'x')
    fs.copyFileSync(path.join(d, 'a'), path.join(d, 'b'), fs.constants.COPYFILE_FICLONE_FORCE)
    return true
  } catch {
    return false
  } finally {
    fs.rmSync(d, { recursive: true, force: true })
  }
})()

/** A writable folder on another device than os.tmpdir(), if there is one. */
const otherDevice = (() => {
  for (const d of ['/dev/shm', '/run/user/' + (process.getuid?.() ?? 0)]) {
    try {
      fs.accessSync(d, fs.constants.W_OK)
      if (fs.statSync(d).dev !== fs.statSync(os.tmpdir()).dev) return d
    } catch {}
  }
  return undefined
})()

describe('import methods', () => {
  it('hardlink shares the store inode and leaves its read-only mode alone', () => {
    const imp = createImporter('hardlink')
    const dst = path.join(tmp, 'dst')
    expect(imp.import(src, dst, 0o644)).toBe('hardlink')
    expect(fs.statSync(dst).ino).toBe(fs.statSync(src).ino)
    expect(fs.statSync(dst).mode & 0o777).toBe(0o444)
    expect(imp.counts).toEqual({ clone: 0, hardlink: 1, copy: 0 })
  })

  it('copy gets its own inode and npm\'s mode; writing it leaves the store alone', () => {
    const imp = createImporter('copy')
    const dst = path.join(tmp, 'dst')
    expect(imp.import(src, dst, 0o755)).toBe('copy')
    expect(fs.statSync(dst).ino).not.toBe(fs.statSync(src).ino)
    expect(fs.statSync(dst).mode & 0o777).toBe(0o755)
    fs.writeFileSync(dst, 'changed\n')
    expect(fs.readFileSync(src, 'utf8')).toBe('content\n')
  })

  it('clone is forced: it clones, or fails where the file system cannot', () => {
    const imp = createImporter('clone')
    const dst = path.join(tmp, 'dst')
    if (canClone) {
      expect(imp.import(src, dst, 0o644)).toBe('clone')
      expect(fs.statSync(dst).mode & 0o777).toBe(0o644)
      expect(fs.readFileSync(dst, 'utf8')).toBe('content\n')
    } else {
      expect(() => imp.import(src, dst, 0o644)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(ENOTSUP|EOPNOTSUPP|EXDEV|EINVAL|ENOSYS|ENOTTY)$/) }))
    }
  })

  it('auto tries a clone once, then hard links', () => {
    const imp = createImporter('auto')
    const kinds = [0, 1, 2].map(i => imp.import(src, path.join(tmp, `dst${i}`), 0o644))
    if (canClone) expect(kinds).toEqual(['clone', 'clone', 'clone'])
    else {
      expect(kinds).toEqual(['hardlink', 'hardlink', 'hardlink'])
      expect(imp.kind).toBe('hardlink')
    }
    for (let i = 0; i < 3; i++) expect(fs.readFileSync(path.join(tmp, `dst${i}`), 'utf8')).toBe('content\n')
    expect(imp.notes).toEqual([])
  })

  it.skipIf(!otherDevice)('auto copies across devices, and says so once; forced hardlink fails there', () => {
    const far = fs.mkdtempSync(path.join(otherDevice!, 'si-import-'))
    try {
      const imp = createImporter('auto')
      const kinds = [0, 1].map(i => imp.import(src, path.join(far, `dst${i}`), 0o644))
      expect(kinds).toEqual(['copy', 'copy'])
      expect(fs.statSync(path.join(far, 'dst0')).mode & 0o777).toBe(0o644)
      expect(imp.notes).toHaveLength(1)
      expect(imp.notes[0]).toMatch(/another device/)
      expect(() => createImporter('hardlink').import(src, path.join(far, 'x'), 0o644)).toThrow(expect.objectContaining({ code: 'EXDEV' }))
    } finally {
      fs.rmSync(far, { recursive: true, force: true })
    }
  })

  it('copy() always copies and sets the mode, whatever the method', () => {
    const imp = createImporter('hardlink')
    const dst = path.join(tmp, 'dst')
    imp.copy(src, dst, 0o755)
    expect(fs.statSync(dst).ino).not.toBe(fs.statSync(src).ino)
    expect(fs.statSync(dst).mode & 0o777).toBe(0o755)
  })
})
