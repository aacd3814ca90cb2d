// `safe-install rebuild [pkg...]`: the one command that runs package code,
// and only for packages the project's allowlists name, identified by their
// lockfile entry.
import { loadOptions } from '../config/load.js'
import { loadPlan } from '../plan/load.js'
import { loadAllowLists } from '../rebuild/allowlist.js'
import { rebuild, type RebuildEvent } from '../rebuild/run.js'
import { acquireLock } from '../write/lock.js'
import { toCliFlags } from './flags.js'
import type { Io } from './main.js'

export async function runRebuildCommand (argv: string[], args: Record<string, any>, io: Io): Promise<number> {
  const options = await loadOptions({ argv, flags: toCliFlags('rebuild', args), isTTY: io.isTTY })
  const lock = await acquireLock(options.prefix)
  try {
    const { plan } = await loadPlan(options, { mode: 'lockfile' })
    const lists = await loadAllowLists(options.prefix, { npmrcAllowScripts: options.npmFlat.allowScripts })
    const quiet = options.json || options.loglevel === 'silent'
    const say = (s: string) => { if (!quiet) io.stdout(s) }
    for (const w of lists.warnings) if (!quiet) io.stderr(`warn ${w}`)
    const dry = Boolean(args['dry-run'])
    const onEvent = (e: RebuildEvent) => {
      const spec = `${e.entry.name}@${e.entry.version}`
      if (e.type === 'run') say(`${dry ? 'would run' : 'run'} ${spec} ${e.event}: ${e.cmd}  (allowed by ${e.by})`)
      else if (e.type === 'fail') say(`FAILED ${spec} ${e.event} (exit ${e.code ?? e.signal}): ${e.message}`)
      else if (e.type === 'skip') say(`skip ${spec}: ${e.reason}`)
    }
    const result = await rebuild({
      prefix: options.prefix,
      plan,
      lists,
      names: args.packages,
      onEvent,
      scriptShell: options.npmFlat.scriptShell,
      nodeGyp: options.npmFlat.nodeGyp,
      ...(dry ? { runScript: async () => ({ code: 0, signal: null, stdout: '', stderr: '' }) as any } : {}),
    })
    if (options.json) io.stdout(JSON.stringify({ ok: !result.failed.length, dryRun: dry, ...result, warnings: lists.warnings }, null, 2))
    else say(`rebuild: ${result.ran.length} ${dry ? 'would run' : 'ran'}, ${result.skipped.length} skipped, ${result.failed.length} failed`)
    return result.failed.length ? 1 : 0
  } finally {
    await lock.release()
  }
}
