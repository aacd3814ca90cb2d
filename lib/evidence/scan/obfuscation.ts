// Obfuscation signals. A long line alone means nothing (minified bundles are
// normal); these look for what obfuscators and droppers leave behind:
// `_0x1a2b`-style identifiers, strings spelled as runs of `\xNN` escapes that
// decode to readable text, and long high-entropy strings (base64 payloads).

/** identifiers like `_0x4f2a1c`, as javascript-obfuscator names them */
export const HEX_IDENTIFIER = /^_0x[0-9a-f]{4,}$/i
/** how many `_0x…` identifier occurrences make a file obfuscated */
export const HEX_IDENTIFIER_THRESHOLD = 3

/** strings longer than this are checked for entropy */
export const LONG_STRING = 200
/** bits per character above which a long string is a payload */
export const ENTROPY_BITS = 5

/** consecutive `\xNN` / `\u00NN` escapes that make a string "hex-escaped" */
export const HEX_ESCAPE_RUN = 8
const HEX_ESCAPES = /(?:\\x[0-9a-fA-F]{2}|\\u00[0-9a-fA-F]{2}){8,}/g

/** Shannon entropy of a string, in bits per UTF-16 code unit. */
export function shannonEntropy (s: string): number {
  const n = s.length
  if (n === 0) return 0
  const low = new Uint32Array(256)
  let high: Map<number, number> | undefined
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 256) low[c]++
    else {
      high ??= new Map()
      high.set(c, (high.get(c) ?? 0) + 1)
    }
  }
  let h = 0
  for (let c = 0; c < 256; c++) {
    const k = low[c]
    if (k) {
      const p = k / n
      h -= p * Math.log2(p)
    }
  }
  if (high) {
    for (const k of high.values()) {
      const p = k / n
      h -= p * Math.log2(p)
    }
  }
  return h
}

/** base64 / base64url / hex alphabet */
const BLOB_CHAR = new Uint8Array(128)
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-') BLOB_CHAR[c.charCodeAt(0)] = 1
const isBlobChar = (c: number): boolean => c < 128 && BLOB_CHAR[c] === 1

/** data: URIs of images and fonts are inlined assets, not payloads */
const INLINE_ASSET = /data:(?:image|font|application\/(?:x-)?font)[\w/+.-]*(?:;[\w=-]+)*[;,]\s*$/i

export interface Blob {
  /** offset of the run in the text searched */
  readonly index: number
  readonly length: number
  readonly entropy: number
}

/**
 * The first long (> LONG_STRING chars) run of base64/hex alphabet in `text`
 * with entropy > ENTROPY_BITS: an encoded payload. Inline image/font data:
 * URIs and source maps are skipped. The same rule serves a string literal's
 * value (parsed files) and a whole file (unparsed ones).
 *
 * Sublinear on ordinary code: a run longer than LONG_STRING must cover one of
 * the positions sampled every LONG_STRING + 1 characters, so only runs around
 * those samples are measured.
 */
export function findBlob (text: string): Blob | undefined {
  const n = text.length
  const step = LONG_STRING + 1
  let i = LONG_STRING
  while (i < n) {
    if (!isBlobChar(text.charCodeAt(i))) {
      i += step
      continue
    }
    let start = i
    while (start > 0 && isBlobChar(text.charCodeAt(start - 1))) start--
    let end = i + 1
    while (end < n && isBlobChar(text.charCodeAt(end))) end++
    if (end - start > LONG_STRING) {
      const before = text.slice(Math.max(0, start - 80), start)
      if (!INLINE_ASSET.test(before) && !before.includes('sourceMappingURL')) {
        const entropy = shannonEntropy(text.slice(start, end))
        if (entropy > ENTROPY_BITS) return { index: start, length: end - start, entropy }
      }
    }
    i = end + step
  }
  return undefined
}

export function blobDetail (blob: Blob): string {
  return `high-entropy string (${blob.length} chars, ${blob.entropy.toFixed(2)} bits/char)`
}

/**
 * Source text (a literal's raw form, or a whole file) with a run of at least
 * HEX_ESCAPE_RUN `\xNN` escapes that decode to printable ASCII: text hidden
 * from a reader. Escaped binary tables (mostly control bytes) do not count.
 * Returns the offset of the first such run in `raw`, or -1.
 */
export function hexEscapedText (raw: string): number {
  if (!raw.includes('\\x') && !raw.includes('\\u00')) return -1
  HEX_ESCAPES.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = HEX_ESCAPES.exec(raw)) !== null) {
    const run = m[0]
    let printable = 0
    let total = 0
    for (let i = 0; i < run.length;) {
      const len = run[i + 1] === 'x' ? 4 : 6
      const code = parseInt(run.slice(i + len - 2, i + len), 16)
      if (code >= 0x20 && code < 0x7f) printable++
      total++
      i += len
    }
    if (printable / total >= 0.9) return m.index
  }
  return -1
}
