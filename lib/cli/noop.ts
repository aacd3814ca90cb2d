// `install` / `verify` on inputs already verified: only the advisory query
// is repeated (the one thing that changes for a fixed set of versions).
import { SafeInstallError } from '../errors.js'
import { advisoriesCheck } from '../evidence/advisories.js'
import type { CheckContext } from '../evidence/check.js'
import { RegistryClient } from '../fetch/client.js'
import { MemoryFacts } from '../fetch/facts.js'
import type { Options } from '../options.js'
import { formatSkippedScripts, formatViolation } from '../report/human.js'
import { transportViolations } from '../policy/transport.js'
import type { RunState } from '../state.js'
import type { Command, RunNote, VerifiedPackage } from '../types.js'
import type { Io } from './main.js'

export async function runNoop (command: Command, state: RunState, options: Options, io: Io): Promise<number> {
  const transport = transportViolations(options)
  if (transport.length) {
    throw new SafeInstallError(transport[0].code as any, transport[0].message, { violations: transport, fix: transport[0].fix })
  }
  const client = new RegistryClient(options)
  const notes: RunNote[] = []
  const ctx: CheckContext = {
    options,
    plan: state.plan,
    fetchJson: (url, o) => client.json(url, { accept: o?.accept, fresh: o?.fresh }),
    postJson: (url, body) => client.postJson(url, body),
    fullPackument: async () => undefined,
    facts: new MemoryFacts(),
    note: n => { notes.push(n) },
  }
  // only what the advisory query reads of a verified package
  const pkgs = state.plan.entries
    .filter(e => state.registries[e.location])
    .map(e => ({ entry: e, registry: state.registries[e.location] }) as unknown as VerifiedPackage)
  const res = await advisoriesCheck.finish!(pkgs, ctx)
  const violations = res.violations ?? []
  const errors = violations.filter(v => v.severity !== 'warning')
  if (errors.length) {
    const lead = errors.find(v => v.code === 'ESIMALWARE') ?? errors[0]
    throw new SafeInstallError(lead.code as any, errors.length === 1 ? lead.message : `${errors.length} advisories refuse this tree`, { violations: errors, package: lead.package, path: lead.path, fix: lead.fix })
  }
  if (options.json) {
    io.stdout(JSON.stringify({ ok: true, command, exitCode: 0, noop: true, verifiedAt: state.at, stats: state.stats, notes, warnings: violations, scriptsSkipped: state.scriptsSkipped }, null, 2))
  } else if (options.loglevel !== 'silent') {
    const lines = [`safe-install ${command}: up to date: ${state.stats.fetched} packages, all checks passed at ${state.at} on these same lockfile, package.json and policy; advisories checked again now`]
    for (const n of notes) lines.push(`  ${n.level === 'warning' ? 'warn' : 'note'} [${n.check}] ${n.message}`)
    for (const v of violations) lines.push('  ' + formatViolation(v))
    lines.push(...formatSkippedScripts(state.scriptsSkipped))
    io.stdout(lines.join('\n'))
  }
  return 0
}
