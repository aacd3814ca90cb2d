// `ci`, `install`, `verify`: Options once, the pipeline, the record, output.
import { createRequire } from 'node:module'
import { loadOptions } from '../config/load.js'
import { SafeInstallError } from '../errors.js'
import type { RunResult } from '../pipeline.js'
import type { RecordDiff } from '../record/diff.js'
import type { RecordDocument } from '../record/write.js'
import { formatSummary, formatTimings } from '../report/human.js'
import { jsonReport } from '../report/json.js'
import { createProgress } from '../report/progress.js'
import type { Command } from '../types.js'
import { inputKey, readReplay, readState, writeReplay, writeState } from '../state.js'
import { runNoop } from './noop.js'
import { toCliFlags } from './flags.js'
import type { Io } from './main.js'

const require = createRequire(import.meta.url)
const VERSION: string = require('../../package.json').version

export function libraryVersions (): Record<string, string> {
  const out: Record<string, string> = { node: process.versions.node }
  for (const name of ['@npmcli/arborist', '@npmcli/config', 'pacote', 'cacache', 'ssri', '@sigstore/verify', '@sigstore/tuf']) {
    try { out[name] = require(`${name}/package.json`).version } catch {}
  }
  return out
}

export async function runInstallCommand (command: Command, argv: string[], args: Record<string, any>, io: Io): Promise<number> {
  // performance.now() counts from process start: what came before is Node and module loading
  const startup = performance.now()
  const options = await loadOptions({ argv, flags: toCliFlags(command, args), isTTY: io.isTTY })
  const configMs = performance.now() - startup
  const quiet = options.loglevel === 'silent'
  const noopKind = command === 'verify' ? 'verify' : command === 'install' && !(args.specs?.length) ? 'install' : undefined
  // the store writer lays out the trees Arborist plans (hoisted, nested, shallow);
  // npm's linked layout is made inside reify, which does not read the verified store
  if (options.npmFlat.installStrategy === 'linked' && command !== 'verify') {
    throw new SafeInstallError('ESIUSAGE', 'install-strategy=linked is not supported yet: safe-install writes npm\'s hoisted, nested or shallow layouts', {
      fix: 'drop install-strategy=linked from .npmrc or the command line (the default is hoisted)',
    })
  }
  const key = await inputKey(options, VERSION)
  if (noopKind && key && !options.timing) {
    const state = await readState(options, noopKind, key)
    if (state) return runNoop(command, state, options, io)
  }
  // the npm libraries load only when there is work to do
  const [{ buildChecks }, { runPipeline }, { buildRecord, serializeRecord }, { diffRecords, formatDiff, isEmptyDiff }, { defaultRecordPath, readRecord, writeRecordAtomic }, { isAllowed, loadAllowLists }] = await Promise.all([
    import('../checks.js'), import('../pipeline.js'), import('../record/cyclonedx.js'), import('../record/diff.js'),
    import('../record/write.js'), import('../rebuild/allowlist.js'),
  ])
  // ci and install write the tree from the verified content store; install
  // then saves package.json and the lockfile with Arborist's own save step
  const writer = command === 'verify' ? undefined : new (await import('../write/materialize.js')).MaterializeWriter()
  const progress = createProgress(options.progress, 'verifying')
  const defaultRecord = defaultRecordPath(options.prefix)
  // read before the writer swaps node_modules: the diff needs it
  const previous: RecordDocument | undefined = command === 'verify' ? undefined : await readRecord(defaultRecord).catch(() => undefined)
  let diff: RecordDiff | undefined
  const written: string[] = []

  const afterWrite = async (result: RunResult) => {
    const targets = [...(command !== 'verify' && options.record.enabled ? [defaultRecord] : []), ...(options.record.enabled ? options.record.paths : [])]
    if (!targets.length) return
    const bom = buildRecord({
      plan: result.plan,
      evidence: result.evidence,
      options,
      command: ['safe-install', ...argv].join(' '),
      tool: { name: 'safe-install', version: VERSION },
      libraries: libraryVersions(),
      notes: result.notes,
      sources: new Map([...result.verified].map(([loc, p]) => [loc, { tarballUrl: p.tarballUrl, registry: p.registry }])),
    })
    const json = serializeRecord(bom, options.record.specVersion)
    if (previous) diff = diffRecords(previous, JSON.parse(json))
    for (const target of targets) {
      await writeRecordAtomic(target, json)
      written.push(target)
    }
  }

  // a ci of inputs verified before replays those verdicts (lib/replay.ts)
  const prior = key && command === 'ci' ? await readReplay(options, key) : undefined
  const loadMs = performance.now() - startup - configMs
  const result = await runPipeline(options, { add: args.specs, prior }, {
    checks: buildChecks(options),
    writer,
    progress: (d, t) => progress.update(d, t),
    info: m => { if (!quiet && !options.json) io.stderr(m) },
    afterWrite,
  }).finally(() => progress.done())
  // phases before the pipeline lead the timings
  result.timings = { startup, config: configMs, load: loadMs, ...result.timings }

  // which skipped scripts the project already allows: `rebuild` would run them
  let allowedSkipped: string[] = []
  if (result.scriptsSkipped.length) {
    const lists = await loadAllowLists(options.prefix, { npmrcAllowScripts: options.npmFlat.allowScripts })
    const byLoc = new Map(result.plan.entries.map(e => [e.location, e]))
    allowedSkipped = result.scriptsSkipped
      .filter(p => { const e = byLoc.get(p.location); return e && isAllowed(e, lists, result.plan).allowed })
      .map(p => `${p.name}@${p.version}`)
  }
  if (key) {
    const state = {
      key,
      command,
      at: new Date().toISOString(),
      plan: result.plan,
      registries: Object.fromEntries([...result.verified].map(([loc, p]) => [loc, p.registry])),
      stats: result.stats,
      scriptsSkipped: result.scriptsSkipped,
    }
    await writeState(options, 'verify', state)
    if (result.wrote) await writeState(options, 'install', state)
    if (result.replayData) await writeReplay(options, key, result.replayData)
  }
  if (options.json) {
    io.stdout(JSON.stringify(jsonReport(result, { record: { written, diff }, allowedScripts: allowedSkipped }), null, 2))
  } else if (!quiet) {
    const extra: string[] = []
    if (allowedSkipped.length) extra.push(`${allowedSkipped.length} of them allowed by this project (${allowedSkipped.slice(0, 5).join(', ')}${allowedSkipped.length > 5 ? ', ...' : ''}): \`safe-install rebuild\` would run them`)
    if (written.length) extra.push(`record: ${written.join(', ')}`)
    if (diff && !isEmptyDiff(diff)) extra.push(...formatDiff(diff).split('\n'))
    else if (previous && diff) extra.push('no changes since the last install')
    io.stdout(formatSummary(result, extra))
    if (options.timing) io.stdout(formatTimings(result.timings))
  }
  return 0
}
