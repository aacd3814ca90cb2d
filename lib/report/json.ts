// The one machine-readable report (--json).
import { ERROR_CODES, SafeInstallError } from '../errors.js'
import type { RunResult } from '../pipeline.js'

export function jsonReport (r: RunResult, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ok: true,
    command: r.command,
    exitCode: 0,
    stats: r.stats,
    replayed: r.replayed,
    warnings: r.warnings,
    notes: r.notes,
    scriptsSkipped: r.scriptsSkipped,
    recovered: r.recovered,
    packages: r.plan.entries.map(e => ({
      name: e.name,
      version: e.version,
      path: e.location,
      integrity: e.integrity,
      source: e.source,
      dev: e.dev,
      optional: e.optional,
      bundled: e.bundled,
      evidence: r.evidence.get(e.location),
    })),
    timings: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v)])),
    ...extra,
  }
}

export function jsonError (err: SafeInstallError, command: string): Record<string, unknown> {
  return {
    ok: false,
    command,
    exitCode: err.exitCode,
    error: { code: err.code, summary: ERROR_CODES[err.code].summary, message: err.message, package: err.package, path: err.path, fix: err.fix },
    violations: err.violations.length ? err.violations : [{ code: err.code, message: err.message, package: err.package, path: err.path, fix: err.fix }],
  }
}
