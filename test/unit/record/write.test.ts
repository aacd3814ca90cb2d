import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

// pass-through, with a switch to make one call fail
const failures = vi.hoisted(() => ({ rename: false, write: false }))
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>()
  return {
    ...actual,
    rename: async (from: string, to: string) => {
      if (failures.rename) throw Object.assign(new Error('EIO: simulated rename failure'), { code: 'EIO' })
      return actual.rename(from, to)
    },
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args)
      if (!failures.write) return handle
      return new Proxy(handle, {
        get (target, prop, receiver) {
          if (prop === 'writeFile') {
            return async (data: string) => {
              await target.writeFile(String(data).slice(0, 10)) // a torn write...
              throw Object.assign(new Error('ENOSPC: simulated full disk'), { code: 'ENOSPC' })
            }
          }
          const v = Reflect.get(target, prop, receiver)
          return typeof v === 'function' ? v.bind(target) : v
        },
      })
    },
  }
})

const { defaultRecordPath, isRecordTempFile, readRecord, writeRecordAtomic } = await import('../../../lib/record/write.js')

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'si-record-'))
  failures.rename = false
  failures.write = false
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const DOC = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] }

describe('defaultRecordPath', () => {
  it('is node_modules/.safe-install/record.cdx.json under the project', () => {
    expect(defaultRecordPath('/p')).toBe(join('/p', 'node_modules', '.safe-install', 'record.cdx.json'))
  })
})

describe('writeRecordAtomic', () => {
  it('creates the folder, writes the file, leaves no temp file', async () => {
    const path = defaultRecordPath(dir)
    await writeRecordAtomic(path, `${JSON.stringify(DOC)}\n`)
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(DOC)
    expect(readdirSync(dirname(path))).toEqual(['record.cdx.json'])
  })

  it('writes UTF-8 parts as they are, in order, past the system\'s limit of buffers per write', async () => {
    const path = join(dir, 'parts.cdx.json')
    const text = `${JSON.stringify({ ...DOC, note: 'größer… 鍵 '.repeat(400) }, null, 2)}\n`
    const bytes = Buffer.from(text)
    // 3,000 parts, some empty, one split inside a multi-byte character
    const parts: Buffer[] = []
    const cut = bytes.indexOf(Buffer.from('鍵')) + 1
    for (let at = 0; at < bytes.length;) {
      const end = at < cut && cut < at + 7 ? cut : Math.min(bytes.length, at + 1 + (parts.length % 3))
      parts.push(bytes.subarray(at, end), Buffer.alloc(0))
      at = end
    }
    expect(parts.length).toBeGreaterThan(2048)
    await writeRecordAtomic(path, parts)
    expect(readFileSync(path, 'utf8')).toBe(text)
    expect(readdirSync(dir).filter(n => n.startsWith('parts'))).toEqual(['parts.cdx.json'])
  })

  it('accepts an object and replaces an existing record', async () => {
    const path = join(dir, 'a', 'b', 'record.cdx.json')
    await writeRecordAtomic(path, { ...DOC, version: 1 })
    await writeRecordAtomic(path, { ...DOC, version: 2 })
    expect(JSON.parse(readFileSync(path, 'utf8')).version).toBe(2)
    expect(readdirSync(dirname(path))).toEqual(['record.cdx.json'])
  })

  it('a failed rename leaves the old record untouched and no temp file', async () => {
    const path = defaultRecordPath(dir)
    await writeRecordAtomic(path, 'OLD')
    failures.rename = true
    await expect(writeRecordAtomic(path, 'NEW')).rejects.toThrow(/simulated rename failure/)
    expect(readFileSync(path, 'utf8')).toBe('OLD')
    expect(readdirSync(dirname(path))).toEqual(['record.cdx.json'])
  })

  it('a failed (torn) write leaves the old record untouched and no temp file', async () => {
    const path = defaultRecordPath(dir)
    await writeRecordAtomic(path, 'OLD CONTENT')
    failures.write = true
    await expect(writeRecordAtomic(path, 'NEW CONTENT THAT IS LONGER')).rejects.toThrow(/simulated full disk/)
    expect(readFileSync(path, 'utf8')).toBe('OLD CONTENT')
    expect(readdirSync(dirname(path))).toEqual(['record.cdx.json'])
  })

  it('fails when the folder cannot be created, writing nothing', async () => {
    writeFileSync(join(dir, 'node_modules'), 'a file, not a folder')
    await expect(writeRecordAtomic(defaultRecordPath(dir), 'X')).rejects.toThrow()
    expect(readdirSync(dir)).toEqual(['node_modules'])
  })

  it('concurrent writers never produce a torn file', async () => {
    const path = defaultRecordPath(dir)
    const docs = Array.from({ length: 8 }, (_, i) => JSON.stringify({ ...DOC, version: i + 1, pad: 'x'.repeat(10_000 * (i + 1)) }))
    await Promise.all(docs.map((d) => writeRecordAtomic(path, d)))
    expect(docs).toContain(readFileSync(path, 'utf8'))
    expect(readdirSync(dirname(path)).filter((f) => isRecordTempFile(f))).toEqual([])
  })
})

describe('readRecord', () => {
  it('returns undefined when there is no record', async () => {
    expect(await readRecord(defaultRecordPath(dir))).toBeUndefined()
  })

  it('reads back what was written', async () => {
    const path = defaultRecordPath(dir)
    await writeRecordAtomic(path, DOC)
    expect(await readRecord(path)).toEqual(DOC)
  })

  it('throws on a file that is not JSON or not CycloneDX', async () => {
    mkdirSync(join(dir, 'x'))
    writeFileSync(join(dir, 'x', 'bad.json'), '{ not json')
    await expect(readRecord(join(dir, 'x', 'bad.json'))).rejects.toThrow(/not valid JSON/)
    writeFileSync(join(dir, 'x', 'other.json'), '{"name":"x"}')
    await expect(readRecord(join(dir, 'x', 'other.json'))).rejects.toThrow(/not a CycloneDX document/)
  })
})
