import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

import { createJobs } from '../../../lib/offload/jobs.js'
import { SideThread } from '../../../lib/offload/side-thread.js'
import { withoutRefused } from '../../../lib/offload/start-worker.js'
import { putVerified } from '../../../lib/fetch/store.js'
import { buildRecord, serializeRecord } from '../../../lib/record/cyclonedx.js'
import { checkClaimedYielding, contentStoreRoot, entryDir, entryIndex, knownListing, type StoreIndex } from '../../../lib/write/store.js'
import { integrityOf, makeTarball } from '../../fixtures/registry/tarball.js'
import { ENTRIES, fullEvidence, LIBRARIES, makeOptions, makePlan, TOOL } from '../record/fixtures.js'

// the compiled worker (the test suite builds dist/ first)
const WORKER = new URL('../../../dist/offload/side-worker.js', import.meta.url)
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-side-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

function recordInput (notes: string[] = []) {
  const plan = makePlan({ entries: [ENTRIES.plain] })
  const o = makeOptions()
  return {
    plan,
    evidence: new Map([[ENTRIES.plain.location, fullEvidence()]]),
    options: { policy: o.policy, omit: o.omit, registry: o.registry, scopedRegistries: o.scopedRegistries },
    command: 'safe-install ci',
    tool: TOOL,
    libraries: LIBRARIES,
    notes: notes.map(message => ({ check: 'write', level: 'info' as const, message })),
    timestamp: new Date('2026-11-26T00:00:00Z'),
  }
}

/** A cache with `count` small packages in its verified tarball store (index.js says which). */
async function verifiedPackages (name: string, count: number) {
  const cache = path.join(tmp, name)
  const tarballs = path.join(cache, '_safe-install', 'tarballs')
  const integrities: string[] = []
  for (let i = 0; i < count; i++) {
    const data = makeTarball({ 'package.json': JSON.stringify({ name: `p${i}`, version: '1.0.0' }), 'index.js': `module.exports = ${i}\n` })
    const integrity = integrityOf(data)
    await putVerified(tarballs, `test:${i}`, data, integrity)
    integrities.push(integrity)
  }
  return { root: contentStoreRoot(cache), tarballs, integrities }
}

/** The record without its random serial number, for comparisons. */
function comparable (text: string) {
  const doc = JSON.parse(text)
  delete doc.serialNumber
  return doc
}

describe.each([
  ['on the worker thread', () => new SideThread({ workerUrl: WORKER })],
  ['inline (no worker)', () => new SideThread({ workerUrl: null })],
])('SideThread %s', (_label, make) => {
  it('prepares a record ahead and writes it when asked, as often as asked: the same document buildRecord makes, with a diff against the text it replaces', async () => {
    const side = make()
    try {
      const target = path.join(tmp, `${_label.replace(/\W+/g, '-')}.cdx.json`)
      const input = recordInput()
      await side.call('record:prepare', { id: 7, input, specVersion: '1.6' })
      const previous = serializeRecord(buildRecord(recordInput()), '1.6')
      const done = await side.call('record:write', { id: 7, targets: [target], previous })
      expect(done.written).toEqual([target])
      expect(comparable(fs.readFileSync(target, 'utf8'))).toEqual(comparable(serializeRecord(buildRecord(input), '1.6')))
      expect(done.diff).toBeDefined()
      // into the staged tree first, then to --record files after the swap
      const copy = path.join(tmp, `copy-${_label.replace(/\W+/g, '-')}.cdx.json`)
      const again = await side.call('record:write', { id: 7, targets: [copy] })
      expect(again).toEqual({ written: [copy], diff: undefined })
      expect(fs.readFileSync(copy, 'utf8')).toBe(fs.readFileSync(target, 'utf8'))
      await expect(side.call('record:write', { id: 8, targets: [target] })).rejects.toThrow(/no record was prepared as 8/)
    } finally {
      side.close()
    }
  })

  it('keeps the record as a template: a later run of the same input (older packages, another time) fills it in, the same document buildRecord makes, with no changes against the last one', async () => {
    const label = _label.replace(/\W+/g, '-')
    const template = path.join(tmp, `template-${label}`, 'p-record.txt')
    const first = path.join(tmp, `first-${label}.cdx.json`)
    const run1 = make()
    try {
      await run1.call('record:prepare', { id: 1, input: recordInput(), specVersion: '1.6', template })
      await run1.call('record:write', { id: 1, targets: [first] })
    } finally {
      run1.close()
    }
    expect(fs.existsSync(template)).toBe(true)
    const kept = fs.readFileSync(template, 'utf8')

    const later = recordInput()
    const ev = later.evidence.get(ENTRIES.plain.location)!
    later.evidence.set(ENTRIES.plain.location, { ...ev, releaseAge: { ...ev.releaseAge!, ageDays: ev.releaseAge!.ageDays! + 30.25 } })
    later.timestamp = new Date('2026-12-26T01:02:03.004Z')
    const second = path.join(tmp, `second-${label}.cdx.json`)
    const run2 = make()
    try {
      await run2.call('record:prepare', { id: 1, input: later, specVersion: '1.6', template })
      const done = await run2.call('record:write', { id: 1, targets: [second], previous: fs.readFileSync(first, 'utf8') })
      expect(done.diff).toEqual({ added: [], removed: [], changed: [], evidenceChanged: [], capabilitiesGained: [] })
    } finally {
      run2.close()
    }
    // filled in, not made again: the template is as it was
    expect(fs.readFileSync(template, 'utf8')).toBe(kept)
    const text = fs.readFileSync(second, 'utf8')
    expect(comparable(text)).toEqual(comparable(serializeRecord(buildRecord(later), '1.6')))
    expect(text).toContain(`"value": "${ev.releaseAge!.ageDays! + 30.25}"`)
    expect(JSON.parse(text).serialNumber).not.toBe(JSON.parse(fs.readFileSync(first, 'utf8')).serialNumber)

    // another input is made anew, and kept in its place
    const run3 = make()
    try {
      await run3.call('record:prepare', { id: 1, input: recordInput(['a note']), specVersion: '1.6', template })
      await run3.call('record:write', { id: 1, targets: [path.join(tmp, `third-${label}.cdx.json`)] })
    } finally {
      run3.close()
    }
    expect(fs.readFileSync(template, 'utf8')).not.toBe(kept)
  })

  it('an earlier record that is not CycloneDX gives no diff, not a failure', async () => {
    const side = make()
    try {
      const target = path.join(tmp, `bad-prev-${_label.replace(/\W+/g, '-')}.cdx.json`)
      await side.call('record:prepare', { id: 1, input: recordInput(), specVersion: '1.6' })
      const done = await side.call('record:write', { id: 1, targets: [target], previous: '{"not":"a record"}' })
      expect(done.written).toEqual([target])
      expect(done.diff).toBeUndefined()
    } finally {
      side.close()
    }
  })

  it('TUF targets: offline, the copy embedded in @sigstore/tuf, saying so', async () => {
    const side = make()
    try {
      const target = await side.call('tuf:target', { opts: { cachePath: path.join(tmp, 'tuf'), offline: true }, name: 'trusted_root.json' })
      expect(target?.source).toBe('embedded')
      expect(target?.reason).toBe('offline mode')
      expect(JSON.parse(target!.text).mediaType).toMatch(/trustedroot/i)
    } finally {
      side.close()
    }
  })

  it('store:extract builds a verified tarball\'s entry in the content store; many at once all arrive', async () => {
    const side = make()
    try {
      const { root, tarballs, integrities } = await verifiedPackages(`store-${_label.replace(/\W+/g, '-')}`, 5)
      await Promise.all(integrities.map(integrity => side.call('store:extract', { root, tarballs, integrity })))
      for (const [i, integrity] of integrities.entries()) {
        expect(typeof entryIndex(root, integrity)).toBe('object')
        expect(fs.readFileSync(path.join(entryDir(root, integrity), 'package', 'index.js'), 'utf8')).toBe(`module.exports = ${i}\n`)
      }
      // bytes that are not in the verified store are never extracted
      await expect(side.call('store:extract', { root, tarballs, integrity: integrityOf(Buffer.from('other')) })).rejects.toThrow(/not in the store/)
    } finally {
      await side.close()
    }
  })

  it('store:check shares its list with this thread through shared memory: every position checked once, by one of the two', async () => {
    const side = make()
    try {
      const { root, tarballs, integrities } = await verifiedPackages(`check-${_label.replace(/\W+/g, '-')}`, 40)
      for (const integrity of integrities) await side.call('store:extract', { root, tarballs, integrity })
      fs.chmodSync(path.join(entryDir(root, integrities[3]), 'package', 'index.js'), 0o600)
      const claim = new Int32Array(new SharedArrayBuffer(4))
      const theirs = side.call('store:check', { root, integrities, claim })
      const mine = await checkClaimedYielding(root, integrities, claim)
      const done = await theirs
      // each position once, whichever thread got there first
      expect([...mine.done, ...done.done].sort((a, b) => a - b)).toEqual([...integrities.keys()])
      expect([...mine.problems, ...done.problems]).toEqual([[integrities[3], 'changed', 'index.js: mode']])
      const digests = { ...mine.digests, ...done.digests }
      expect(Object.keys(digests).sort()).toEqual(integrities.filter((_, i) => i !== 3).sort())
      const index = entryIndex(root, integrities[0]) as StoreIndex
      expect(digests[integrities[0]]).toBe(knownListing({ paths: index.files.map(r => r[0]), modes: index.files.map(r => r[4]), fixes: [] }).digest)
    } finally {
      await side.close()
    }
  })

  it('an error in a job reaches the caller with its message and code', async () => {
    const side = make()
    try {
      // a record target under a file: the folder cannot be made
      const file = path.join(tmp, 'a-file')
      fs.writeFileSync(file, '')
      await side.call('record:prepare', { id: 1, input: recordInput(), specVersion: '1.6' })
      await expect(side.call('record:write', { id: 1, targets: [path.join(file, 'r.json')] }))
        .rejects.toMatchObject({ code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) })
    } finally {
      side.close()
    }
  })
})

describe('SideThread without a working thread', () => {
  it('runs every call inline when no compiled worker exists, and says why', async () => {
    const side = new SideThread({ workerUrl: new URL('file:///nonexistent/side-worker.js') })
    await new Promise(resolve => setTimeout(resolve, 200))
    const target = await side.call('tuf:target', { opts: { cachePath: path.join(tmp, 'tuf2'), offline: true }, name: 'trusted_root.json' })
    expect(target?.source).toBe('embedded')
    expect(side.inlineReason).toMatch(/side thread (failed|exited)/)
    side.close()
  })

  it('close() rejects what is still pending, and later calls run inline', async () => {
    const side = new SideThread({ workerUrl: WORKER })
    const pending = side.call('warm', { kinds: ['record', 'tuf'] })
    side.close()
    await expect(pending).rejects.toThrow(/closed/)
    const target = await side.call('tuf:target', { opts: { cachePath: path.join(tmp, 'tuf3'), offline: true }, name: 'trusted_root.json' })
    expect(target?.source).toBe('embedded')
  })

  it('the worker script is compiled beside the module', () => {
    expect(fs.existsSync(fileURLToPath(WORKER))).toBe(true)
  })

  it('starts under per-process V8 flags a worker refuses (`node --max-old-space-size=…`), without them', () => {
    const module = new URL('../../../dist/offload/side-thread.js', import.meta.url).href
    const script = `import { SideThread } from ${JSON.stringify(module)}
const side = new SideThread()
const answer = await side.call('tuf:target', { opts: { cachePath: ${JSON.stringify(path.join(tmp, 'tuf-flags'))}, offline: true }, name: 'trusted_root.json' })
console.log(JSON.stringify({ inline: side.inlineReason ?? null, source: answer?.source }))
side.close()`
    const r = spawnSync(process.execPath, ['--max-old-space-size=512', '--max-semi-space-size=2', '--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({ inline: null, source: 'embedded' })
  })
})

describe('withoutRefused', () => {
  it('drops the flags the error names, and only those', () => {
    const argv = ['--max-old-space-size=512', '--enable-source-maps', '--max-semi-space-size=2']
    expect(withoutRefused(argv, 'Initiated Worker with invalid execArgv flags: --max-old-space-size=512, --max-semi-space-size=2')).toEqual(['--enable-source-maps'])
    expect(withoutRefused(argv, 'Initiated Worker with invalid execArgv flags: --something-else')).toBeUndefined()
    expect(withoutRefused([], 'Initiated Worker with invalid execArgv flags: --x')).toBeUndefined()
  })
})

describe('createJobs', () => {
  it('keeps one TUF client per options: the same target twice is asked once', async () => {
    const jobs = createJobs()
    const opts = { cachePath: path.join(tmp, 'tuf4'), offline: true }
    const a = await jobs['tuf:target']({ opts, name: 'trusted_root.json' })
    const b = await jobs['tuf:target']({ opts, name: 'trusted_root.json' })
    expect(a).toBe(b)
  })
})
