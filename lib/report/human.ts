// Human output: a short summary on success, actionable refusals on failure.
// Returns strings; the CLI decides where they go.
import { ERROR_CODES, type SafeInstallError } from '../errors.js'
import type { RunResult, SkippedScripts } from '../pipeline.js'
import type { Violation } from '../types.js'

const MAX_LISTED = 20

function plural (n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`
}

export function formatViolation (v: Violation): string {
  const where = v.package ? ` ${v.package}${v.path ? ` (${v.path})` : ''}` : v.path ? ` (${v.path})` : ''
  const lines = [`${v.severity === 'warning' ? 'warn' : 'error'} ${v.code}${where}: ${v.message}`]
  if (v.fix) lines.push(`  fix: ${v.fix}`)
  return lines.join('\n')
}

export function formatError (err: SafeInstallError): string {
  const lines: string[] = []
  if (err.violations.length > 1) {
    lines.push(`safe-install refused: ${err.message}. Nothing was written to node_modules.`)
    for (const v of err.violations.slice(0, MAX_LISTED)) lines.push(formatViolation(v))
    if (err.violations.length > MAX_LISTED) lines.push(`... and ${err.violations.length - MAX_LISTED} more (use --json for all)`)
  } else {
    const v: Violation = err.violations[0] ?? { code: err.code, message: err.message, package: err.package, path: err.path, fix: err.fix }
    lines.push(formatViolation(v))
    if (err.code !== 'ESIWRITE' && err.code !== 'ESIUSAGE' && err.code !== 'ESIBUSY') lines.push('Nothing was written to node_modules.')
  }
  lines.push(`(exit ${err.exitCode}: ${ERROR_CODES[err.code].summary})`)
  return lines.join('\n')
}

function countBy<T> (items: Iterable<T>, key: (t: T) => string | undefined): Map<string, number> {
  const m = new Map<string, number>()
  for (const it of items) {
    const k = key(it)
    if (k) m.set(k, (m.get(k) ?? 0) + 1)
  }
  return m
}

function tally (m: Map<string, number>): string {
  return [...m].map(([k, n]) => `${n} ${k}`).join(', ')
}

export function formatSummary (r: RunResult, extra: string[] = []): string {
  const s = r.stats
  const verb = r.command === 'verify' ? 'verified (nothing written)' : 'verified and installed'
  const lines = [
    `safe-install ${r.command}: ${plural(s.fetched, 'package')} ${verb}: ${s.fromCache} from cache, ${s.fromNetwork} from the network` +
      (s.bundled ? `; ${s.bundled} bundled` : '') + (s.links ? `; ${plural(s.links, 'link')}` : ''),
  ]
  for (const r2 of r.recovered) lines.push(`  ${r2}`)
  if (r.replayed) lines.push('  verdicts of the last run on this same lockfile, package.json and policy reused: registry keys unchanged, store files checked, advisories queried again now')
  const ev = [...r.evidence.values()]
  const sig = countBy(ev, e => e.signature?.status)
  if (sig.size) lines.push(`  signatures: ${tally(sig)}`)
  const prov = countBy(ev, e => e.provenance?.status)
  if (prov.size) lines.push(`  provenance: ${tally(prov)}`)
  for (const n of r.notes) lines.push(`  ${n.level === 'warning' ? 'warn' : 'note'} [${n.check}] ${n.message}`)
  for (const w of r.warnings.slice(0, MAX_LISTED)) lines.push('  ' + formatViolation(w).replace(/\n/g, '\n  '))
  if (r.warnings.length > MAX_LISTED) lines.push(`  ... and ${r.warnings.length - MAX_LISTED} more warnings (--json lists all)`)
  lines.push(...formatSkippedScripts(r.scriptsSkipped))
  lines.push(...extra.map(l => '  ' + l))
  return lines.join('\n')
}

/** The packages whose install scripts were not run, so the user can act. */
export function formatSkippedScripts (skipped: readonly SkippedScripts[]): string[] {
  if (!skipped.length) return []
  const lines = [`  install scripts not run (${plural(skipped.length, 'package')}):`]
  for (const p of skipped.slice(0, MAX_LISTED)) lines.push(`    ${p.name}@${p.version}: ${p.scripts.join(', ')}`)
  if (skipped.length > MAX_LISTED) lines.push(`    ... and ${skipped.length - MAX_LISTED} more`)
  lines.push('  if a package needs its scripts, allow it in package.json "allowScripts" and run `safe-install rebuild`')
  return lines
}

/**
 * `--timing`: the phases in order (startup: Node and module loading before
 * the command ran), then the writer's steps, then the time
 * each check took summed over packages (checks run concurrently with
 * fetching, so these overlap the fetch phase and each other).
 */
export function formatTimings (t: Record<string, number>): string {
  const ms = (v: number) => `${Math.round(v)} ms`
  const group = (prefix: string) => Object.entries(t).filter(([k]) => k.startsWith(prefix))
    .map(([k, v]) => `${k.slice(prefix.length)} ${ms(v)}`)
  const phases = Object.entries(t).filter(([k]) => !k.includes(':')).map(([k, v]) => `${k} ${ms(v)}`)
  const lines = [`timing: ${phases.join(', ')}`]
  const write = group('write:')
  if (write.length) lines.push(`  write: ${write.join(', ')}`)
  const checks = group('check:')
  if (checks.length) lines.push(`  time inside each check, summed over packages (waits included; they overlap each other and the fetch): ${checks.join(', ')}`)
  return lines.join('\n')
}
