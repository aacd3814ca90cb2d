// Release-age cooldown (pure). A version must have been published at least
// `minReleaseAgeDays` days ago, the same rule as npm's `min-release-age`
// ("only versions available more than the given number of days ago"), with
// npm's `min-release-age-exclude` name patterns as the escape hatch.
import type { ReleaseAgeOutcome } from '../types.js'

const DAY_MS = 86_400_000

/**
 * Whether `name` matches an exclusion pattern: an exact name or a glob such
 * as `@myorg/*`, as npm's min-release-age-exclude (minimatch with nonegate,
 * nocomment, noext): `*` and `?` never cross a `/`, `**` does, `{a,b}`
 * alternatives are expanded, and a leading `!` or `#` is literal. A pattern
 * only ever widens the exemption, so anything unusual is taken literally.
 */
export function matchesNamePattern (name: string, pattern: string): boolean {
  if (!name || !pattern) return false
  if (name === pattern) return true
  for (const alt of expandBraces(pattern)) {
    if (alt === name || globToRegExp(alt).test(name)) return true
  }
  return false
}

export function isReleaseAgeExcluded (name: string, patterns: readonly string[] | undefined): boolean {
  if (!name || !patterns?.length) return false
  return patterns.some(p => typeof p === 'string' && matchesNamePattern(name, p.trim()))
}

/** `a{b,c}d` -> [abd, acd]; nested braces are expanded left to right; at most 64 results. */
function expandBraces (pattern: string): string[] {
  const open = pattern.indexOf('{')
  if (open < 0) return [pattern]
  let depth = 0
  let close = -1
  for (let i = open; i < pattern.length; i++) {
    if (pattern[i] === '{') depth++
    else if (pattern[i] === '}' && --depth === 0) { close = i; break }
  }
  if (close < 0) return [pattern]
  const body = pattern.slice(open + 1, close)
  const parts: string[] = []
  depth = 0
  let start = 0
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '{') depth++
    else if (body[i] === '}') depth--
    else if (body[i] === ',' && depth === 0) { parts.push(body.slice(start, i)); start = i + 1 }
  }
  parts.push(body.slice(start))
  if (parts.length < 2) return [pattern]
  const out: string[] = []
  for (const p of parts) {
    for (const rest of expandBraces(pattern.slice(0, open) + p + pattern.slice(close + 1))) {
      out.push(rest)
      if (out.length >= 64) return out
    }
  }
  return out
}

function globToRegExp (glob: string): RegExp {
  let re = '^'
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*'
        i++
      } else {
        re += '[^/]*'
      }
    } else if (c === '?') {
      re += '[^/]'
    } else {
      re += c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')
    }
  }
  return new RegExp(re + '$')
}

export interface ReleaseAgeInput {
  readonly name: string
  /** publish time (ISO string, Date, or epoch ms); undefined when the registry gave none */
  readonly published?: string | Date | number
  readonly now: Date | number
  readonly minReleaseAgeDays: number
  readonly exclude?: readonly string[]
}

export interface ReleaseAgeDecision extends ReleaseAgeOutcome {
  /** when the version leaves the cooldown (ISO), for too-new versions */
  readonly availableAt?: string
}

/** The cooldown decision for one version. */
export function releaseAgeOutcome (input: ReleaseAgeInput): ReleaseAgeDecision {
  const days = input.minReleaseAgeDays
  if (!(typeof days === 'number' && days > 0 && Number.isFinite(days))) {
    return { status: 'not-checked' }
  }
  const nowMs = typeof input.now === 'number' ? input.now : input.now.getTime()
  const pub = parseTime(input.published)
  const known = pub === undefined
    ? {}
    : { published: new Date(pub).toISOString(), ageDays: round2((nowMs - pub) / DAY_MS) }
  if (isReleaseAgeExcluded(input.name, input.exclude)) {
    return { status: 'excluded', ...known }
  }
  if (pub === undefined) return { status: 'unknown' }
  const cutoff = nowMs - days * DAY_MS
  // npm's `before` is inclusive: published on or before the cutoff is old enough
  if (pub > cutoff) {
    return { status: 'too-new', ...known, availableAt: new Date(pub + days * DAY_MS).toISOString() }
  }
  return { status: 'ok', ...known }
}

function parseTime (t: string | Date | number | undefined): number | undefined {
  if (t === undefined || t === null || t === '') return undefined
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t)
  return Number.isFinite(ms) ? ms : undefined
}

function round2 (n: number): number {
  return Math.round(n * 100) / 100
}
