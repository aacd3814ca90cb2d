// A record made from the same input as the last one differs from it only in
// values that move with the clock: the serial number, the timestamp and each
// package's age in days. The serialized text is kept with the places of
// those values (its holes), and a later run with an otherwise equal input
// fills in its own instead of building and serializing the document again
// (about 0.4 s of CPU and the CycloneDX library's loading, for 1,500
// packages). The input is named by a digest of all of it but the ages, with
// the code and versions that make the document, so any other difference
// builds anew; and a template is kept only if filling it with the values it
// was made with gives back its text exactly.
import crypto from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { writeCacheData } from '../cache-file.js'
import type { PackageEvidence } from '../types.js'
import type { RecordInput, RecordSource, RecordSpecVersion } from './cyclonedx.js'

const require = createRequire(import.meta.url)
const FORMAT = 2

/** The record's property names the holes are found by (lib/record/cyclonedx.ts). */
const PATH_PROPERTY = 'cdx:npm:package:path'
const AGE_PROPERTY = 'safe-install:release-age:age-days'

/** What fills a hole: the serial number, the timestamp, or the age of the package at a lockfile location. */
export type HoleValue = { serial: true } | { time: true } | { age: string }

/** [start, end) in the template's bytes (a JSON string's contents), and what goes there. */
export type Hole = readonly [number, number, HoleValue]

export interface RecordTemplate {
  /** the digest of what the record was made from (recordKey) */
  readonly key: string
  /**
   * the record as UTF-8: kept, read and written as bytes (as a string, its
   * non-ASCII characters made reading and filling in a 6 MB record cost
   * 200 ms)
   */
  readonly bytes: Buffer
  /** in order */
  readonly holes: readonly Hole[]
}

/** The values of one run. */
export interface TemplateValues {
  readonly serialNumber: string
  readonly timestamp: string
  /** age in days as the record writes it, by lockfile location */
  readonly ages: ReadonlyMap<string, string>
}

/**
 * What JSON.stringify writes whole: no Map or Set at any depth (it writes
 * both as `{}`, so a difference inside one would not change the key). A
 * field of that kind added to the record's input fails to compile in
 * recordKey until it is converted there too.
 */
type JsonSafe<T> = T extends ReadonlyMap<unknown, unknown> | ReadonlySet<unknown>
  ? never
  : T extends Date | string | number | boolean | null | undefined
    ? T
    : T extends ReadonlyArray<infer E>
      ? ReadonlyArray<JsonSafe<E>>
      : { readonly [K in keyof T]: JsonSafe<T[K]> }

type Keyed = Omit<RecordInput, 'timestamp' | 'evidence' | 'sources'> & {
  readonly evidence: ReadonlyArray<readonly [string, PackageEvidence]>
  readonly sources?: ReadonlyArray<readonly [string, RecordSource]>
}

/**
 * Names a record's input with everything else the document depends on:
 * `maker` names the code and library versions that build and serialize it.
 * The timestamp and the ages are left out: they are filled in. (No replacer:
 * one call per value cost more than the stringify itself.)
 */
export function recordKey (input: RecordInput, specVersion: RecordSpecVersion, maker: string): string {
  const { timestamp: _ignored, evidence, sources, ...rest } = input
  const keyed: JsonSafe<Keyed> = {
    ...rest,
    evidence: [...evidence].map(([location, ev]) => [location, ev.releaseAge?.ageDays === undefined ? ev : { ...ev, releaseAge: { ...ev.releaseAge, ageDays: undefined } }]),
    sources: sources && [...sources],
  }
  return crypto.createHash('sha256')
    .update(`${FORMAT}\0${specVersion}\0${maker}\0`)
    .update(JSON.stringify(keyed))
    .digest('hex')
}

/** The ages the record writes, by location, as it writes them. */
export function agesOf (input: RecordInput): Map<string, string> {
  const ages = new Map<string, string>()
  for (const [location, ev] of input.evidence) {
    const days = ev.releaseAge?.ageDays
    if (days !== undefined) ages.set(location, String(days))
  }
  return ages
}

/** The only occurrence of `needle` in text, or -1 when there is none or more than one. */
function onlyAt (text: string, needle: string): number {
  const at = text.indexOf(needle)
  return at >= 0 && text.indexOf(needle, at + 1) < 0 ? at : -1
}

const property = (name: string) => new RegExp(`"name": ${JSON.stringify(name)},\\s*"value": "((?:[^"\\\\]|\\\\.)*)"`, 'g')

/**
 * A serialized record as a template, given the values it was made with;
 * undefined when a value is not found where it belongs, or when filling the
 * template back does not give the text (then nothing is reused).
 */
export function templateOf (key: string, text: string, values: TemplateValues): RecordTemplate | undefined {
  const { serialNumber, timestamp } = values
  const s = onlyAt(text, `"serialNumber": ${JSON.stringify(serialNumber)}`)
  const t = onlyAt(text, `"timestamp": ${JSON.stringify(timestamp)}`)
  const metadata = text.indexOf('"metadata": {')
  if (s < 0 || t < 0 || metadata < 0 || t < metadata || s > t) return undefined
  const sAt = s + '"serialNumber": "'.length
  const tAt = t + '"timestamp": "'.length
  const holes: Hole[] = [[sAt, sAt + serialNumber.length, { serial: true }], [tAt, tAt + timestamp.length, { time: true }]]
  // each age belongs to the component whose properties hold it: the path
  // property sorts before it in the same list
  const paths = property(PATH_PROPERTY)
  const seen = new Set<string>()
  for (const m of text.matchAll(property(AGE_PROPERTY))) {
    const valueAt = m.index + m[0].length - 1 - m[1].length
    const list = text.lastIndexOf('"properties": [', m.index)
    paths.lastIndex = list
    let location: string | undefined
    for (let p = paths.exec(text); p && p.index < m.index; p = paths.exec(text)) location = JSON.parse(`"${p[1]}"`)
    if (list < 0 || location === undefined || seen.has(location)) return undefined
    seen.add(location)
    holes.push([valueAt, valueAt + m[1].length, { age: location }])
  }
  holes.sort((a, b) => a[0] - b[0])
  // the same holes, in bytes
  const bytes = Buffer.from(text, 'utf8')
  let chars = 0
  let offset = 0
  const at = (char: number): number => {
    offset += Buffer.byteLength(text.slice(chars, char), 'utf8')
    chars = char
    return offset
  }
  const byteHoles: Hole[] = holes.map(([start, end, what]) => [at(start), at(end), what])
  const template = { key, bytes, holes: byteHoles }
  const filled = fillTemplate(template, values)
  return filled && Buffer.concat(filled).equals(bytes) ? template : undefined
}

/**
 * The template's bytes with this run's values, in parts to write as they are
 * (joining 6 MB into a new buffer cost 30 ms here, most of it the new memory's
 * page faults); undefined when the run has no age for a hole.
 */
export function fillTemplate (t: RecordTemplate, values: TemplateValues): Buffer[] | undefined {
  const parts: Buffer[] = []
  let at = 0
  for (const [start, end, what] of t.holes) {
    const value = 'serial' in what ? values.serialNumber : 'time' in what ? values.timestamp : values.ages.get(what.age)
    if (value === undefined || !SHAPE[kind(what)].test(value)) return undefined
    // the shapes are ASCII: one byte per character
    parts.push(t.bytes.subarray(at, start), Buffer.from(value, 'latin1'))
    at = end
  }
  parts.push(t.bytes.subarray(at))
  return parts
}

const kind = (what: HoleValue): 'serial' | 'time' | 'age' => 'serial' in what ? 'serial' : 'time' in what ? 'time' : 'age'

// what a filled-in value may be: nothing that needs escaping or could end the string
const SHAPE = {
  serial: /^urn:uuid:[0-9a-f-]{36}$/,
  time: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
  age: /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/,
}

/**
 * True when `other` is the template's text with other values in its holes:
 * the same document, made at another time (the ages are not compared by the
 * record diff either).
 */
export function sameDocument (t: RecordTemplate, other: Uint8Array | string): boolean {
  const bytes = typeof other === 'string' ? Buffer.from(other, 'utf8') : Buffer.from(other.buffer, other.byteOffset, other.byteLength)
  const same = (from: number, to: number, pos: number): boolean => pos + (to - from) <= bytes.length && bytes.subarray(pos, pos + to - from).equals(t.bytes.subarray(from, to))
  let at = 0
  let pos = 0
  for (const [start, end, what] of t.holes) {
    if (!same(at, start, pos)) return false
    pos += start - at
    const close = bytes.indexOf(0x22, pos) // the value's closing quote
    if (close < 0 || !SHAPE[kind(what)].test(bytes.toString('latin1', pos, close))) return false
    pos = close
    at = end
  }
  return bytes.length === pos + (t.bytes.length - at) && same(at, t.bytes.length, pos)
}

/** The kept template, if its file is whole; never throws. */
export function readTemplate (file: string): RecordTemplate | undefined {
  let raw: Buffer
  try {
    raw = fs.readFileSync(file)
  } catch {
    return undefined
  }
  const nl = raw.indexOf(0x0a)
  if (nl < 0) return undefined
  try {
    const head = JSON.parse(raw.toString('utf8', 0, nl))
    const bytes = raw.subarray(nl + 1)
    if (head?.format !== FORMAT || typeof head.key !== 'string' || head.length !== bytes.length || !Array.isArray(head.holes)) return undefined
    let at = 0
    for (const h of head.holes) {
      const ok = Array.isArray(h) && h.length === 3 && Number.isInteger(h[0]) && Number.isInteger(h[1]) &&
        h[0] >= at && h[1] >= h[0] && h[1] <= bytes.length && typeof h[2] === 'object' && h[2] !== null &&
        (h[2].serial === true || h[2].time === true || typeof h[2].age === 'string')
      if (!ok) return undefined
      at = h[1]
    }
    return { key: head.key, bytes, holes: head.holes }
  } catch {
    return undefined
  }
}

/** Keeps a template for the next run (a cache file: written aside and renamed in, best effort). */
export async function writeTemplate (file: string, t: RecordTemplate): Promise<void> {
  const head = JSON.stringify({ format: FORMAT, key: t.key, length: t.bytes.length, holes: t.holes }) + '\n'
  await writeCacheData(file, Buffer.concat([Buffer.from(head), t.bytes]))
}

/**
 * Names the code and versions that make a record from its input: this
 * folder's builder and the libraries it calls. A new build of safe-install,
 * a library update or another Node.js makes every kept template miss.
 */
export function recordMaker (): string {
  const h = crypto.createHash('sha256').update(process.version)
  for (const name of ['cyclonedx.js', 'template.js']) {
    try {
      h.update('\0').update(fs.readFileSync(new URL(`./${name}`, import.meta.url)))
    } catch {
      h.update('\0?')
    }
  }
  for (const lib of ['@cyclonedx/cyclonedx-library', '@npmcli/config', 'spdx-expression-parse', 'ssri']) {
    try {
      h.update(`\0${lib}@${require(`${lib}/package.json`).version}`)
    } catch {
      h.update(`\0${lib}@?`)
    }
  }
  return h.digest('hex')
}
