// Lists a tarball's entries (and keeps the small files the checks read)
// with node-tar's own parser, so what we judge is exactly what pacote's
// extraction will see. Runs on verified bytes only.
import zlib from 'node:zlib'
import { createRequire } from 'node:module'
import type { TarEntry } from '../types.js'

const require = createRequire(import.meta.url)
// loaded on first use: a replayed ci reads no tarball
let tarModule: typeof import('tar') | undefined
const tar = (): typeof import('tar') => (tarModule ??= require('tar'))

/** Files worth keeping in memory for the checks: code and manifests, up to 1 MiB. */
const KEEP = /\.(c?js|mjs|json|gyp)$/i
const KEEP_MAX = 1024 * 1024
/** For other files, the first bytes tell a native binary (ELF, Mach-O, PE). */
const MAGIC_BYTES = 4

export interface TarIndex {
  files: TarEntry[]
  /** kept file contents (or first bytes), by path without the leading folder */
  contents: Map<string, Buffer>
  /** the package.json at the package root */
  manifest?: Record<string, any>
  manifestError?: string
  /** bytes after decompression */
  unpackedSize: number
  /** the inflated tar, for the store to extract without inflating it again (dropped after) */
  tar?: Buffer
}

const TYPE: Record<string, TarEntry['type']> = {
  File: 'file', OldFile: 'file', ContiguousFile: 'file', Directory: 'directory', SymbolicLink: 'symlink', Link: 'link',
}

/** Strips the first path segment (npm tarballs wrap everything in `package/`), as pacote's strip:1 does. */
function stripFirst (p: string): string {
  const abs = p.startsWith('/')
  const parts = p.split('/').filter((s, i) => !(abs && i === 0 && s === ''))
  if (abs) return '/' + parts.slice(1).join('/')
  return parts.slice(1).join('/')
}

export function indexTarball (tgz: Buffer): TarIndex {
  const raw = tgz[0] === 0x1f && tgz[1] === 0x8b ? gunzip(tgz) : tgz
  const files: TarEntry[] = []
  const contents = new Map<string, Buffer>()
  const parser = new (tar().Parser)({
    strict: false,
    onReadEntry: (entry: any) => {
      const rawPath: string = entry.path
      const p = stripFirst(rawPath)
      const type = TYPE[entry.type] ?? 'other'
      if (p === '' && type === 'directory') { entry.resume(); return }
      files.push({ path: p, type, size: entry.size ?? 0, mode: entry.mode ?? 0, linkpath: entry.linkpath || undefined })
      if (type === 'file') {
        const keepAll = KEEP.test(p) && entry.size <= KEEP_MAX
        const chunks: Buffer[] = []
        let have = 0
        entry.on('data', (c: Buffer) => {
          if (keepAll || have < MAGIC_BYTES) { chunks.push(c); have += c.length }
        })
        entry.on('end', () => {
          // a file in one piece is a view of the inflated tar, not a copy
          const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
          contents.set(p, keepAll ? buf : buf.subarray(0, MAGIC_BYTES))
        })
      } else {
        entry.resume()
      }
    },
  })
  parser.end(raw)
  let manifest: Record<string, any> | undefined
  let manifestError: string | undefined
  const pj = contents.get('package.json')
  if (pj) {
    try { manifest = JSON.parse(pj.toString('utf8').replace(/^\uFEFF/, '')) } catch (err) { manifestError = (err as Error).message }
  } else {
    manifestError = 'no package.json at the package root'
  }
  return { files, contents, manifest, manifestError, unpackedSize: raw.length, tar: raw }
}

/** Largest output buffer sized up front from the gzip trailer; a bigger tar is inflated in more pieces. */
const MAX_PRESIZED = 512 * 1024 * 1024

/**
 * Inflates into one buffer sized from the size the gzip trailer declares (one
 * byte more, so zlib does not start another): by default zlib collects 16 KiB
 * pieces and copies them into a result as large again, twice the tar's size
 * in short-lived memory. zlib checks the trailer, so one that lies fails as
 * it did before; sizing from it never changes what is inflated.
 */
function gunzip (tgz: Buffer): Buffer {
  const declared = declaredInflatedSize(tgz)
  // deflate cannot expand more than about 1032 to 1: a larger claim is a lie
  const plausible = Math.min(declared, tgz.length * 1032)
  const chunkSize = Math.min(MAX_PRESIZED, Math.max(zlib.constants.Z_DEFAULT_CHUNK, plausible + 1))
  return zlib.gunzipSync(tgz, { chunkSize })
}

/** The size a gzip member declares in its trailer (mod 2^32), or the length of data that is not gzip. */
export function declaredInflatedSize (data: Buffer): number {
  if (data.length >= 18 && data[0] === 0x1f && data[1] === 0x8b) return data.readUInt32LE(data.length - 4)
  return data.length
}
