import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'

import * as tar from 'tar'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { declaredInflatedSize, indexTarball, type TarIndex } from '../../../lib/fetch/tar-index.js'
import { checkTarballStructure } from '../../../lib/policy/tarball-structure.js'

let tmp: string

beforeAll(async () => { tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'si-tar-index-')) })
afterAll(async () => { await fs.rm(tmp, { recursive: true, force: true }) })

let n = 0
/** Packs `files` (and symlinks) under `package/` with node-tar, as npm pack does. */
async function pack (files: Record<string, string | Buffer>, symlinks: Record<string, string> = {}, opts: { gzip?: boolean } = {}): Promise<Buffer> {
  const root = path.join(tmp, `p${n++}`)
  for (const [rel, body] of Object.entries(files)) {
    const abs = path.join(root, 'package', rel)
    await fs.mkdir(path.dirname(abs), { recursive: true })
    await fs.writeFile(abs, body)
  }
  for (const [rel, target] of Object.entries(symlinks)) {
    const abs = path.join(root, 'package', rel)
    await fs.mkdir(path.dirname(abs), { recursive: true })
    await fs.symlink(target, abs)
  }
  const out = path.join(root, 'out.tgz')
  await tar.c({ gzip: opts.gzip ?? true, cwd: root, file: out, portable: true }, ['package'])
  return fs.readFile(out)
}

/** A raw ustar header, written by hand so no library sanitises the name. */
function ustarHeader (name: string, size: number, type = '0', linkname = ''): Buffer {
  const h = Buffer.alloc(512)
  h.write(name, 0, 100, 'utf8')
  h.write('0000644\0', 100, 'ascii')
  h.write('0000000\0', 108, 'ascii')
  h.write('0000000\0', 116, 'ascii')
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii')
  h.write('00000000000\0', 136, 'ascii')
  h.fill(0x20, 148, 156) // checksum field counts as spaces
  h.write(type, 156, 'ascii')
  h.write(linkname, 157, 100, 'utf8')
  h.write('ustar\0', 257, 'ascii')
  h.write('00', 263, 'ascii')
  let sum = 0
  for (const b of h) sum += b
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii')
  return h
}

function rawTar (entries: { name: string, body?: string, type?: string, linkname?: string }[]): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '')
    parts.push(ustarHeader(e.name, body.length, e.type ?? '0', e.linkname ?? ''))
    if (body.length) {
      parts.push(body, Buffer.alloc((512 - (body.length % 512)) % 512))
    }
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

const byPath = (idx: TarIndex, p: string) => idx.files.find(f => f.path === p || f.path === p + '/')

describe('indexTarball on a tarball made by node-tar', () => {
  // a file name over 100 bytes cannot fit ustar's name field: node-tar must write a PAX header
  const LONG = 'lib/' + 'deeply-nested-folder-name/'.repeat(6) + 'a-file-with-a-long-name-that-needs-a-pax-header-'.repeat(3) + '.js'
  const manifest = { name: 'demo', version: '1.2.3', bin: { demo: 'bin/cli.js' } }
  const big = Buffer.alloc(1024 * 1024 + 10, 0x61)
  let idx: TarIndex
  let tgz: Buffer

  beforeAll(async () => {
    expect(LONG.length + 'package/'.length).toBeGreaterThan(155)
    tgz = await pack({
      'package.json': JSON.stringify(manifest),
      'index.js': 'module.exports = 1\n',
      'lib/util.cjs': 'exports.x = 2\n',
      'lib/esm.mjs': 'export default 3\n',
      'binding.gyp': '{ "targets": [] }',
      'README.md': '# demo, a long readme that should not be kept\n',
      'build/native.node': Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(100, 1)]),
      'tiny.bin': Buffer.from([1, 2]),
      'empty.txt': '',
      'big.js': big,
      [LONG]: '// long\n',
    }, { 'lib/link.js': '../index.js' })
    idx = indexTarball(tgz)
  })

  it('the input is gzip', () => {
    expect(tgz[0]).toBe(0x1f)
    expect(tgz[1]).toBe(0x8b)
  })

  it('lists every entry with the leading package/ folder stripped, and not the root folder itself', () => {
    const paths = idx.files.map(f => f.path)
    for (const p of ['package.json', 'index.js', 'lib/util.cjs', 'lib/esm.mjs', 'binding.gyp', 'README.md', 'build/native.node', 'tiny.bin', 'empty.txt', 'big.js', LONG, 'lib/link.js']) {
      expect(paths, p).toContain(p)
    }
    expect(paths.some(p => p.startsWith('package/'))).toBe(false)
    expect(paths).not.toContain('')
    expect(paths.filter(p => p === 'package' || p === 'package/')).toEqual([])
  })

  it('keeps a long (PAX) path whole', () => {
    expect(path.posix.basename(LONG).length).toBeGreaterThan(100)
    expect(zlib.gunzipSync(tgz).includes(Buffer.from(' path=package/' + LONG))).toBe(true) // it is a PAX record
    const f = byPath(idx, LONG)
    expect(f?.type).toBe('file')
  })

  it('types: files, directories, symlinks with their link target', () => {
    expect(byPath(idx, 'index.js')?.type).toBe('file')
    expect(byPath(idx, 'lib')?.type).toBe('directory')
    const link = byPath(idx, 'lib/link.js')
    expect(link?.type).toBe('symlink')
    expect(link?.linkpath).toBe('../index.js')
    expect(byPath(idx, 'index.js')?.linkpath).toBeUndefined()
  })

  it('sizes and modes come from the headers', () => {
    expect(byPath(idx, 'index.js')?.size).toBe('module.exports = 1\n'.length)
    expect(byPath(idx, 'big.js')?.size).toBe(big.length)
    expect(byPath(idx, 'index.js')!.mode & 0o777).toBe(0o644)
  })

  it('parses the manifest', () => {
    expect(idx.manifest).toEqual(manifest)
    expect(idx.manifestError).toBeUndefined()
  })

  it('keeps the whole contents of .js, .cjs, .mjs, .json and .gyp files', () => {
    expect(idx.contents.get('index.js')?.toString()).toBe('module.exports = 1\n')
    expect(idx.contents.get('lib/util.cjs')?.toString()).toBe('exports.x = 2\n')
    expect(idx.contents.get('lib/esm.mjs')?.toString()).toBe('export default 3\n')
    expect(idx.contents.get('binding.gyp')?.toString()).toBe('{ "targets": [] }')
    expect(JSON.parse(idx.contents.get('package.json')!.toString())).toEqual(manifest)
    expect(idx.contents.get(LONG)?.toString()).toBe('// long\n')
  })

  it('keeps only the 4 magic bytes of other files', () => {
    expect(idx.contents.get('README.md')).toEqual(Buffer.from('# de'))
    expect(idx.contents.get('build/native.node')).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))
    expect(idx.contents.get('tiny.bin')).toEqual(Buffer.from([1, 2]))
    expect(idx.contents.get('empty.txt')).toEqual(Buffer.alloc(0))
  })

  it('keeps only the magic bytes of a code file over 1 MiB', () => {
    expect(idx.contents.get('big.js')).toEqual(Buffer.from('aaaa'))
  })

  it('keeps nothing for directories and links', () => {
    expect(idx.contents.has('lib')).toBe(false)
    expect(idx.contents.has('lib/')).toBe(false)
    expect(idx.contents.has('lib/link.js')).toBe(false)
  })

  it('unpackedSize is the decompressed tar length', () => {
    expect(idx.unpackedSize).toBe(zlib.gunzipSync(tgz).length)
  })

  it('the structure check accepts it (the symlink stays inside)', () => {
    expect(checkTarballStructure('demo@1.2.3', 'node_modules/demo', idx.files)).toEqual([])
  })
})

describe('indexTarball: manifest problems', () => {
  it('a missing package.json is a manifestError, even with a nested one', async () => {
    const idx = indexTarball(await pack({ 'index.js': '1', 'lib/package.json': '{"name":"x"}' }))
    expect(idx.manifest).toBeUndefined()
    expect(idx.manifestError).toBe('no package.json at the package root')
    expect(idx.contents.has('lib/package.json')).toBe(true)
  })

  it('a package.json that is not JSON is a manifestError with the parse message', async () => {
    const idx = indexTarball(await pack({ 'package.json': '{ "name": ' }))
    expect(idx.manifest).toBeUndefined()
    expect(idx.manifestError).toMatch(/JSON/)
  })

  it('a leading BOM is tolerated', async () => {
    const idx = indexTarball(await pack({ 'package.json': '\uFEFF{"name":"bom","version":"1.0.0"}' }))
    expect(idx.manifest).toEqual({ name: 'bom', version: '1.0.0' })
    expect(idx.manifestError).toBeUndefined()
  })

  it('the wrapping folder need not be called package/', () => {
    const raw = rawTar([{ name: 'node-v1/package.json', body: '{"name":"n","version":"1.0.0"}' }])
    const idx = indexTarball(zlib.gzipSync(raw))
    expect(idx.files.map(f => f.path)).toEqual(['package.json'])
    expect(idx.manifest).toEqual({ name: 'n', version: '1.0.0' })
  })
})

describe('indexTarball: uncompressed input', () => {
  it('reads a plain tar too', async () => {
    const plain = await pack({ 'package.json': '{"name":"p","version":"0.0.1"}', 'a.js': 'x' }, {}, { gzip: false })
    expect(plain[0] === 0x1f && plain[1] === 0x8b).toBe(false)
    const idx = indexTarball(plain)
    expect(idx.manifest).toEqual({ name: 'p', version: '0.0.1' })
    expect(idx.files.map(f => f.path).sort()).toEqual(['a.js', 'package.json'])
    expect(idx.unpackedSize).toBe(plain.length)
  })
})

describe('indexTarball: hostile entries written by hand', () => {
  it('the hand-written header is a valid tar (sanity)', () => {
    const idx = indexTarball(zlib.gzipSync(rawTar([{ name: 'package/package.json', body: '{"name":"h","version":"1.0.0"}' }])))
    expect(idx.manifest).toEqual({ name: 'h', version: '1.0.0' })
  })

  it('reports package/../evil.js as ../evil.js, and the structure check refuses it', () => {
    const tgz = zlib.gzipSync(rawTar([
      { name: 'package/package.json', body: '{"name":"h","version":"1.0.0"}' },
      { name: 'package/../evil.js', body: 'require("child_process")' },
    ]))
    const idx = indexTarball(tgz)
    expect(idx.files.map(f => f.path)).toEqual(['package.json', '../evil.js'])
    expect(idx.contents.get('../evil.js')?.toString()).toBe('require("child_process")')
    const out = checkTarballStructure('h@1.0.0', 'node_modules/h', idx.files)
    expect(out.map(v => v.code)).toEqual(['ESITARPATH'])
    expect(out[0].message).toContain('"../evil.js"')
  })

  it('reports a nested escape a/../../x unchanged', () => {
    const idx = indexTarball(zlib.gzipSync(rawTar([{ name: 'package/a/../../x.js', body: '1' }])))
    expect(idx.files.map(f => f.path)).toEqual(['a/../../x.js'])
    expect(checkTarballStructure('h@1.0.0', 'node_modules/h', idx.files).map(v => v.code)).toEqual(['ESITARPATH'])
  })

  it('reports an absolute path as absolute', () => {
    const idx = indexTarball(zlib.gzipSync(rawTar([{ name: '/package/etc/passwd', body: 'x' }])))
    expect(idx.files).toHaveLength(1)
    expect(idx.files[0].path.startsWith('/')).toBe(true)
    expect(checkTarballStructure('h@1.0.0', 'node_modules/h', idx.files).map(v => v.code)).toEqual(['ESITARPATH'])
  })

  it('reports a symlink pointing outside with its raw target', () => {
    const idx = indexTarball(zlib.gzipSync(rawTar([{ name: 'package/lib/link', type: '2', linkname: '../../outside' }])))
    expect(idx.files).toEqual([{ path: 'lib/link', type: 'symlink', size: 0, mode: 0o644, linkpath: '../../outside' }])
    expect(checkTarballStructure('h@1.0.0', 'node_modules/h', idx.files).map(v => v.code)).toEqual(['ESITARLINK'])
  })

  it('reports a hard link as type link with its linkpath', () => {
    const idx = indexTarball(zlib.gzipSync(rawTar([{ name: 'package/x', type: '1', linkname: '../../etc/passwd' }])))
    expect(idx.files[0]).toMatchObject({ path: 'x', type: 'link', linkpath: '../../etc/passwd' })
    expect(checkTarballStructure('h@1.0.0', 'node_modules/h', idx.files).map(v => v.code)).toEqual(['ESITARLINK'])
  })

  it('other entry types (e.g. a FIFO) are listed as other', () => {
    const idx = indexTarball(zlib.gzipSync(rawTar([{ name: 'package/fifo', type: '6' }])))
    expect(idx.files[0]).toMatchObject({ path: 'fifo', type: 'other' })
  })
})

describe('indexTarball: inflating', () => {
  it('sizing the output from the gzip trailer never changes the outcome: a trailer that lies fails as zlib fails it', async () => {
    const tgz = await pack({ 'package.json': JSON.stringify({ name: 'x', version: '1.0.0' }), 'index.js': 'a'.repeat(300_000), 'lib/b.js': 'b\n' })
    const honest = indexTarball(tgz)
    expect(honest.unpackedSize).toBe(zlib.gunzipSync(tgz).length)
    expect(honest.contents.get('index.js')!.toString()).toBe('a'.repeat(300_000))
    for (const claim of [1, 1000, honest.unpackedSize * 3, 0xffffffff]) {
      const lying = Buffer.from(tgz)
      lying.writeUInt32LE(claim, lying.length - 4)
      const plain = (() => { try { zlib.gunzipSync(lying); return 'ok' } catch (err) { return (err as Error).message } })()
      const ours = (() => { try { indexTarball(lying); return 'ok' } catch (err) { return (err as Error).message } })()
      expect(ours).toBe(plain)
      expect(ours).toMatch(/length/)
    }
  })
})

describe('declaredInflatedSize', () => {
  it('reads the size a gzip trailer declares; other data is its own length', () => {
    const raw = Buffer.alloc(123_456, 7)
    expect(declaredInflatedSize(zlib.gzipSync(raw))).toBe(raw.length)
    expect(declaredInflatedSize(raw)).toBe(raw.length)
  })
})
