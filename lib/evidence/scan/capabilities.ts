// The static capability scan (SCVS 4.17): what a package could do once
// installed, from its manifest and files alone. Pure: no I/O but `readFile`.
import type { ScanResult, SourceType, TarEntry } from '../../types.js'
import { FindingCollector, type Capability } from './findings.js'
import { analyzeProgram, parseJs } from './js.js'
import { binEntries, binFindings, installScripts } from './manifest.js'
import { binaryKind, mayBeBinary, nativeByName } from './native.js'
import { PREFILTER_CAPABILITIES, prefilter } from './prefilter.js'

export interface ScanInput {
  readonly manifest: Readonly<Record<string, any>>
  readonly files: readonly TarEntry[]
  readonly readFile: (path: string) => Buffer | undefined
  /** where the package comes from (a VerifiedPackage's lockfile entry): `prepare` only runs for git/directory/link */
  readonly entry?: { readonly source?: SourceType }
}

/** What the scan did, for measuring its cost. */
export interface ScanStats {
  /** regular files in the package */
  files: number
  /** JavaScript files (.js .cjs .mjs, plus bin scripts and `#!...node` files) */
  jsFiles: number
  /** JavaScript bytes read */
  jsBytes: number
  /** files the text pre-filter cleared without parsing (it looks only for capabilities still wanted) */
  prefiltered: number
  /** files not parsed (or not read) because all they might show is already known, with examples */
  alreadyKnown: number
  /** files parsed with acorn, and their bytes */
  parsed: number
  parsedBytes: number
  /** candidate files acorn could not parse (regex result used) */
  unparsed: number
  /** files over MAX_PARSE_BYTES (regex result used) */
  tooLarge: number
  /** JavaScript files readFile did not return */
  unreadable: number
  /** other files read for magic bytes */
  magicChecked: number
}

/** Where the scan's time goes, in milliseconds (filled only when asked for). */
export interface ScanTiming {
  /** readFile calls */
  read: number
  /** bytes to text */
  decode: number
  /** the text pass */
  prefilter: number
  /** acorn */
  parse: number
  /** the syntax-tree walk */
  walk: number
}

export function newScanTiming (): ScanTiming {
  return { read: 0, decode: 0, prefilter: 0, parse: 0, walk: 0 }
}

/** Files larger than this are not parsed; the regex pass stands. */
export const MAX_PARSE_BYTES = 1024 * 1024

/** the detail of findings that come from the text pass instead of the parser */
export const UNPARSED = 'unparsed'

const JS_FILE = /\.(?:js|cjs|mjs)$/i
const NODE_SHEBANG = /^#![^\n]*\bnode\b/

export function scanPackage (input: ScanInput): ScanResult {
  return scanPackageWithStats(input).result
}

/** `timing`, when given, is added to (one object can sum a whole run). */
export function scanPackageWithStats ({ manifest, files, readFile: read, entry }: ScanInput, timing?: ScanTiming): { result: ScanResult, stats: ScanStats } {
  const now = timing ? () => performance.now() : () => 0
  const readFile = timing
    ? (p: string) => { const t = now(); try { return read(p) } finally { timing.read += now() - t } }
    : read
  const stats: ScanStats = { files: 0, jsFiles: 0, jsBytes: 0, prefiltered: 0, alreadyKnown: 0, parsed: 0, parsedBytes: 0, unparsed: 0, tooLarge: 0, unreadable: 0, magicChecked: 0 }
  const found = new FindingCollector()

  for (const f of installScripts(manifest, files, entry?.source)) found.add(f)
  const bins = binEntries(manifest, files)
  for (const f of binFindings(bins)) found.add(f)
  const binTargets = new Set(bins.values())
  const defaultType = manifest.type === 'module' ? 'module' : undefined

  const scanJs = (path: string, buf: Buffer, hint?: 'module' | 'script'): void => {
    stats.jsFiles++
    stats.jsBytes += buf.length
    // Below, only capabilities the collector still wants are looked for: for
    // the others, a file could add nothing (they are found, with all their
    // examples kept), so the result is the same as looking for everything.
    const wants = (c: Capability): boolean => found.wants(c)
    // what this file could add is already found, with all the examples kept
    if (!PREFILTER_CAPABILITIES.some(wants)) {
      stats.alreadyKnown++
      return
    }
    let t = now()
    const text = buf.toString('utf8')
    if (timing) { const t2 = now(); timing.decode += t2 - t; t = t2 }
    const pre = prefilter(text, wants)
    if (timing) timing.prefilter += now() - t
    if (buf.length > MAX_PARSE_BYTES) {
      stats.tooLarge++
      found.addRaw(path, text, pre.findings, UNPARSED)
      return
    }
    if (pre.candidates.size === 0) {
      stats.prefiltered++
      return
    }
    const only = new Set([...pre.candidates].filter(wants))
    if (only.size === 0) {
      stats.alreadyKnown++
      return
    }
    t = now()
    const program = parseJs(text, hint)
    if (timing) { const t2 = now(); timing.parse += t2 - t; t = t2 }
    // the walk may stop once it has all the examples of `only` it can keep
    const raw = program === undefined ? undefined : analyzeProgram(program, text, only)
    if (timing) timing.walk += now() - t
    if (raw === undefined) {
      stats.unparsed++
      found.addRaw(path, text, pre.findings, UNPARSED)
    } else {
      stats.parsed++
      stats.parsedBytes += buf.length
      // a capability counts when the text pass flags it and the parser confirms
      // it: so whether a file gets parsed (it also has X) never changes Y
      found.addRaw(path, text, raw.filter(f => only.has(f.capability)))
    }
  }

  for (const file of files) {
    if (file.type !== 'file') continue
    stats.files++
    const path = file.path

    if (path === 'binding.gyp' || path.endsWith('/binding.gyp')) {
      found.add({ capability: 'native', file: path, detail: 'binding.gyp' })
      continue
    }

    if (JS_FILE.test(path)) {
      const buf = readFile(path)
      if (buf === undefined) {
        stats.unreadable++
        continue
      }
      const lower = path.toLowerCase()
      scanJs(path, buf, lower.endsWith('.mjs') ? 'module' : lower.endsWith('.cjs') ? 'script' : defaultType)
      continue
    }

    const byName = nativeByName(path)
    if (byName?.endsWith('(.node)')) {
      found.add({ capability: 'native', file: path, detail: byName })
      continue
    }
    if (byName === undefined && !mayBeBinary(path) && !binTargets.has(path)) continue

    // no JS extension: native binary by magic bytes, or a node script by shebang
    const buf = readFile(path)
    if (buf === undefined) {
      // the bytes were not kept (not small text): the name is all there is
      if (byName !== undefined) found.add({ capability: 'native', file: path, detail: byName })
      continue
    }
    stats.magicChecked++
    const kind = binaryKind(buf)
    if (kind !== undefined) {
      found.add({ capability: 'native', file: path, detail: kind })
      continue
    }
    if (binTargets.has(path) || (buf[0] === 0x23 && NODE_SHEBANG.test(buf.subarray(0, 200).toString('latin1')))) {
      scanJs(path, buf, 'script')
    }
  }

  return { result: found.result(), stats }
}
