import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { DiskFacts, MemoryFacts } from '../../../lib/fetch/facts.js'
import { sha512 } from './helpers.js'

let dir: string
beforeEach(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'si-facts-')) })
afterEach(async () => { await fs.rm(dir, { recursive: true, force: true }) })

/** Where DiskFacts keeps (kind, key): <dir>/<kind>/<h[0:2]>/<h[2:]>.json with h = sha256(key). */
function fileFor (kind: string, key: string): string {
  const h = crypto.createHash('sha256').update(key).digest('hex')
  return path.join(dir, kind, h.slice(0, 2), h.slice(2) + '.json')
}

async function listFiles (root: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await fs.readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.join(e.parentPath ?? (e as any).path, e.name))
  }
  return out
}

describe('DiskFacts', () => {
  it('a miss is undefined', async () => {
    expect(await new DiskFacts(dir).get('scan', sha512(1))).toBeUndefined()
  })

  it('set then get on the same instance', async () => {
    const facts = new DiskFacts(dir)
    await facts.set('scan', sha512(1), { capabilities: ['network'] })
    expect(await facts.get('scan', sha512(1))).toEqual({ capabilities: ['network'] })
  })

  it('round-trips across instances (it is on disk), for JSON values of every shape', async () => {
    const values: [string, unknown][] = [
      ['obj', { a: 1, b: [true, null, 'x'], c: { d: 'e' } }],
      ['arr', [1, 2, 3]],
      ['str', 'verified'],
      ['num', 0],
      ['bool', false],
      ['nul', null],
    ]
    const a = new DiskFacts(dir)
    for (const [key, value] of values) await a.set('k', key, value)
    const b = new DiskFacts(dir)
    for (const [key, value] of values) expect(await b.get('k', key), key).toEqual(value)
  })

  it('writes the file where the key hashes to, with the key stored beside the value', async () => {
    const key = sha512(2)
    await new DiskFacts(dir).set('signature', key, { status: 'verified' })
    const stored = JSON.parse(await fs.readFile(fileFor('signature', key), 'utf8'))
    expect(stored).toEqual({ key, value: { status: 'verified' } })
  })

  it('leaves no temporary files behind', async () => {
    const facts = new DiskFacts(dir)
    await Promise.all(Array.from({ length: 10 }, (_, i) => facts.set('k', `key-${i}`, i)))
    const files = await listFiles(dir)
    expect(files).toHaveLength(10)
    for (const f of files) expect(f).toMatch(/\/[0-9a-f]{62}\.json$/)
  })

  it('kinds are separate namespaces for the same key', async () => {
    const a = new DiskFacts(dir)
    await a.set('scan', 'same-key', 'scan-value')
    await a.set('signature', 'same-key', 'sig-value')
    const b = new DiskFacts(dir)
    expect(await b.get('scan', 'same-key')).toBe('scan-value')
    expect(await b.get('signature', 'same-key')).toBe('sig-value')
    expect(await b.get('provenance', 'same-key')).toBeUndefined()
  })

  it('a later set overwrites an earlier one', async () => {
    await new DiskFacts(dir).set('k', 'key', 1)
    await new DiskFacts(dir).set('k', 'key', 2)
    expect(await new DiskFacts(dir).get('k', 'key')).toBe(2)
  })

  it('a file at the right place but for another key is a miss (stored key compared)', async () => {
    const key = sha512(3)
    const file = fileFor('scan', key)
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, JSON.stringify({ key: sha512(4), value: { capabilities: ['eval'] } }))
    expect(await new DiskFacts(dir).get('scan', key)).toBeUndefined()
  })

  it('a file without a key field is a miss', async () => {
    const file = fileFor('scan', 'k1')
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, JSON.stringify({ value: 'planted' }))
    expect(await new DiskFacts(dir).get('scan', 'k1')).toBeUndefined()
  })

  it('a torn (truncated) file is a miss, not an error', async () => {
    const key = sha512(5)
    await new DiskFacts(dir).set('scan', key, { capabilities: ['network', 'child_process'] })
    const file = fileFor('scan', key)
    const full = await fs.readFile(file, 'utf8')
    await fs.writeFile(file, full.slice(0, Math.floor(full.length / 2)))
    expect(await new DiskFacts(dir).get('scan', key)).toBeUndefined()
  })

  it('an empty file, a non-object JSON and a directory in the way are misses', async () => {
    for (const [key, body] of [['e', ''], ['n', 'null'], ['s', '"str"'], ['a', '[1]']] as const) {
      const file = fileFor('k', key)
      await fs.mkdir(path.dirname(file), { recursive: true })
      await fs.writeFile(file, body)
      expect(await new DiskFacts(dir).get('k', key), key).toBeUndefined()
    }
    await fs.mkdir(fileFor('k', 'dir'), { recursive: true })
    expect(await new DiskFacts(dir).get('k', 'dir')).toBeUndefined()
  })

  it('a miss is not cached: a later set on another instance is seen', async () => {
    const reader = new DiskFacts(dir)
    expect(await reader.get('k', 'key')).toBeUndefined()
    await new DiskFacts(dir).set('k', 'key', 'now')
    expect(await reader.get('k', 'key')).toBe('now')
  })

  it('a hit is remembered in memory by the instance that read it', async () => {
    await new DiskFacts(dir).set('k', 'key', 'v')
    const reader = new DiskFacts(dir)
    expect(await reader.get('k', 'key')).toBe('v')
    await fs.rm(fileFor('k', 'key'))
    expect(await reader.get('k', 'key')).toBe('v')
    expect(await new DiskFacts(dir).get('k', 'key')).toBeUndefined()
  })

  it('a cache folder that cannot be written is not an error; the value is still served from memory', async () => {
    const blocker = path.join(dir, 'not-a-dir')
    await fs.writeFile(blocker, 'x')
    const facts = new DiskFacts(blocker)
    await expect(facts.set('k', 'key', 'v')).resolves.toBeUndefined()
    expect(await facts.get('k', 'key')).toBe('v')
    expect(await new DiskFacts(blocker).get('k', 'key')).toBeUndefined()
  })
})

describe('MemoryFacts', () => {
  it('round-trips per instance, separated by kind', async () => {
    const m = new MemoryFacts()
    await m.set('a', 'k', 1)
    expect(await m.get('a', 'k')).toBe(1)
    expect(await m.get('b', 'k')).toBeUndefined()
    expect(await new MemoryFacts().get('a', 'k')).toBeUndefined()
  })
})

describe('DiskFacts snapshot', () => {
  it('a new instance finds the facts of the last run in the snapshot, without the per-fact files', async () => {
    const a = new DiskFacts(dir)
    await a.loadSnapshot('/project')
    await a.set('scan', sha512(1), { capabilities: ['network'] })
    await a.saveSnapshot()
    await fs.rm(path.join(dir, 'scan'), { recursive: true })
    const b = new DiskFacts(dir)
    expect(await b.loadSnapshot('/project')).toBe(1)
    expect(await b.get('scan', sha512(1))).toEqual({ capabilities: ['network'] })
  })

  it('a fact missing from the snapshot is still read from its file, and the snapshot is rewritten with it', async () => {
    await new DiskFacts(dir).set('scan', sha512(2), 'two')
    const a = new DiskFacts(dir)
    expect(await a.loadSnapshot('/project')).toBe(0)
    expect(await a.get('scan', sha512(2))).toBe('two')
    await a.saveSnapshot()
    const b = new DiskFacts(dir)
    expect(await b.loadSnapshot('/project')).toBe(1)
  })

  it('keeps only the facts the last run used, and snapshots are per project', async () => {
    const a = new DiskFacts(dir)
    await a.loadSnapshot('/project')
    await a.set('k', 'old', 1)
    await a.set('k', 'kept', 2)
    await a.saveSnapshot()
    const b = new DiskFacts(dir)
    await b.loadSnapshot('/project')
    expect(await b.get('k', 'kept')).toBe(2)
    await b.saveSnapshot()
    const c = new DiskFacts(dir)
    expect(await c.loadSnapshot('/project')).toBe(1)
    expect(await new DiskFacts(dir).loadSnapshot('/other')).toBe(0)
  })

  it('an unreadable snapshot is no snapshot', async () => {
    const a = new DiskFacts(dir)
    await a.loadSnapshot('/project')
    await a.set('k', 'x', 1)
    await a.saveSnapshot()
    const [file] = await listFiles(path.join(dir, 'snapshots'))
    await fs.writeFile(file!, '{"v":1,"facts":[["k\\u0000x"')
    const b = new DiskFacts(dir)
    expect(await b.loadSnapshot('/project')).toBe(0)
    expect(await b.get('k', 'x')).toBe(1)
  })
})

describe('DiskFacts snapshot: known misses', () => {
  it('a fact the last run looked for and did not find costs no file lookup; once set, it is found', async () => {
    const a = new DiskFacts(dir)
    await a.loadSnapshot('/project')
    expect(await a.get('prov', 'x')).toBeUndefined()
    await a.saveSnapshot()
    // another project learns the fact meanwhile: this project's snapshot still says missing
    await new DiskFacts(dir).set('prov', 'x', 'verified')
    const b = new DiskFacts(dir)
    await b.loadSnapshot('/project')
    expect(await b.get('prov', 'x')).toBeUndefined()
    await b.set('prov', 'x', 'verified')
    await b.saveSnapshot()
    const c = new DiskFacts(dir)
    await c.loadSnapshot('/project')
    expect(await c.get('prov', 'x')).toBe('verified')
  })
})
