import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { buildRecord, serializeRecord, type RecordInput } from '../../../lib/record/cyclonedx.js'
import { diffRecords, isEmptyDiff } from '../../../lib/record/diff.js'
import {
  agesOf, fillTemplate, readTemplate, recordKey, sameDocument, templateOf, writeTemplate, type RecordTemplate,
} from '../../../lib/record/template.js'
import type { PackageEvidence } from '../../../lib/types.js'
import { ENTRIES, fullEvidence, makeEvidence, makeRecordInput } from './fixtures.js'

const MAKER = 'test maker'

function input (over: Partial<RecordInput> = {}): RecordInput {
  // not ASCII: the holes are in bytes, and characters before them take more than one
  return makeRecordInput({ notes: [{ check: 'signatures', message: 'registry keys from the embedded copy… (größer, 鍵)', level: 'warning' }], ...over })
}

/** The evidence of `input()` with every known age moved by `days`. */
function agedBy (days: number): Map<string, PackageEvidence> {
  const evidence = makeEvidence()
  for (const [loc, ev] of evidence) {
    if (ev.releaseAge?.ageDays !== undefined) evidence.set(loc, { ...ev, releaseAge: { ...ev.releaseAge, ageDays: ev.releaseAge.ageDays + days } })
  }
  return evidence
}

/** A record built from scratch, with what a template needs to fill it in. */
function made (i: RecordInput) {
  const bom = buildRecord(i)
  const timestamp = i.timestamp!.toISOString()
  return { text: serializeRecord(bom, '1.6'), values: { serialNumber: bom.serialNumber!, timestamp, ages: agesOf(i) } }
}

function templateFor (i: RecordInput): RecordTemplate {
  const { text, values } = made(i)
  const t = templateOf(recordKey(i, '1.6', MAKER), text, values)
  if (!t) throw new Error('no template')
  return t
}

describe('record templates', () => {
  it('filled with a later run\'s serial number, timestamp and ages, gives exactly the record built for that run', () => {
    const first = input()
    const t = templateFor(first)
    // the ages are holes, the serial number and timestamp too
    expect(t.holes.filter(h => 'age' in h[2]).map(h => (h[2] as { age: string }).age).sort()).toEqual([...agesOf(first).keys()].sort())
    expect(agesOf(first).size).toBeGreaterThan(0)

    const later = input({ evidence: agedBy(12.34), timestamp: new Date('2025-01-14T11:12:13.456Z') })
    expect(recordKey(later, '1.6', MAKER)).toBe(t.key)
    const fresh = made(later)
    expect(Buffer.concat(fillTemplate(t, fresh.values)!).toString('utf8')).toBe(fresh.text)
    expect(t.bytes.toString('utf8')).toContain('größer, 鍵')
  })

  it('names the input by everything but its timestamp and ages', () => {
    const key = recordKey(input(), '1.6', MAKER)
    expect(recordKey(input({ timestamp: new Date(0) }), '1.6', MAKER)).toBe(key)
    const signature = makeEvidence()
    signature.set(ENTRIES.plain.location, fullEvidence({ signature: { status: 'missing', reason: 'no signature' } }))
    expect(recordKey(input({ evidence: signature }), '1.6', MAKER)).not.toBe(key)
    // a Map's contents count (JSON.stringify alone writes every Map as {})
    const fewer = makeEvidence()
    fewer.delete(ENTRIES.dev.location)
    expect(recordKey(input({ evidence: fewer }), '1.6', MAKER)).not.toBe(key)
    expect(recordKey(input(), '1.7', MAKER)).not.toBe(key)
    expect(recordKey(input(), '1.6', 'another build')).not.toBe(key)
    expect(recordKey(input({ notes: [] }), '1.6', MAKER)).not.toBe(key)
  })

  it('is not made when a value is not where it belongs, and cannot be filled without an age for each hole', () => {
    const { text, values } = made(input())
    expect(templateOf('k', text, { ...values, serialNumber: 'urn:uuid:00000000-0000-4000-8000-000000000000' })).toBeUndefined()
    expect(templateOf('k', text, { ...values, timestamp: '1999-01-01T00:00:00.000Z' })).toBeUndefined()
    // an age that is not the one written: filling back would not give the text
    const ages = new Map(values.ages)
    ages.set(ENTRIES.plain.location, '1')
    expect(templateOf('k', text, { ...values, ages })).toBeUndefined()
    const t = templateOf('k', text, values)!
    const missing = new Map(values.ages)
    missing.delete(ENTRIES.plain.location)
    expect(fillTemplate(t, { ...values, ages: missing })).toBeUndefined()
    // nothing that could end the JSON string goes in
    expect(fillTemplate(t, { ...values, timestamp: '2025-01-02T03:04:05.000Z", "x": "' })).toBeUndefined()
  })

  it('tells the same document made at another time from a changed one', () => {
    const t = templateFor(input())
    const text = t.bytes.toString('utf8')
    const later = made(input({ evidence: agedBy(3.5), timestamp: new Date('2025-02-01T00:00:00.000Z') }))
    expect(later.text).not.toBe(text)
    expect(sameDocument(t, later.text)).toBe(true)
    expect(sameDocument(t, Buffer.from(later.text))).toBe(true)
    // which the full diff agrees with
    expect(isEmptyDiff(diffRecords(JSON.parse(text), JSON.parse(later.text)))).toBe(true)

    const changed = makeEvidence()
    changed.set(ENTRIES.plain.location, fullEvidence({ provenance: { status: 'absent' } }))
    const other = made(input({ evidence: changed }))
    expect(sameDocument(t, other.text)).toBe(false)
    expect(sameDocument(t, text.slice(0, -1))).toBe(false)
    expect(sameDocument(t, text + ' ')).toBe(false)
    expect(sameDocument(t, text.replace('größer', 'grosser'))).toBe(false)
    expect(sameDocument(t, '')).toBe(false)
  })

  it('is kept in a file and read back; a damaged file reads as none', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'si-template-'))
    try {
      const file = path.join(dir, 'state', 'p-record.txt')
      expect(readTemplate(file)).toBeUndefined()
      const t = templateFor(input())
      await writeTemplate(file, t)
      expect(readTemplate(file)).toEqual({ key: t.key, bytes: t.bytes, holes: t.holes })
      expect(fs.readdirSync(path.dirname(file))).toEqual(['p-record.txt'])

      const raw = fs.readFileSync(file, 'utf8')
      const nl = raw.indexOf('\n')
      const head = JSON.parse(raw.slice(0, nl))
      const rewrite = (h: unknown, text = raw.slice(nl + 1)) => fs.writeFileSync(file, JSON.stringify(h) + '\n' + text)
      rewrite(head, raw.slice(nl + 1, -1)) // truncated
      expect(readTemplate(file)).toBeUndefined()
      rewrite({ ...head, holes: [...head.holes].reverse() })
      expect(readTemplate(file)).toBeUndefined()
      rewrite({ ...head, holes: [[0, head.length + 1, { serial: true }]] })
      expect(readTemplate(file)).toBeUndefined()
      rewrite({ ...head, format: 0 })
      expect(readTemplate(file)).toBeUndefined()
      fs.writeFileSync(file, 'not json\n{}')
      expect(readTemplate(file)).toBeUndefined()
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
