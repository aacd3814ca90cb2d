// `ci`, `install`, `verify`: Options once, the pipeline, the record, output.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { createRequire } from 'node:module'
import { loadOptions } from '../config/load.js'
import { SafeInstallError } from '../errors.js'
import type { RunResult } from '../pipeline.js'
import type { RecordDiff } from '../record/diff.js'
import { defaultRecordPath } from '../record/write.js'
import { SideThread } from '../offload/side-thread.js'
import type { RecordJobResult } from '../offload/jobs.js'
import type { Options } from '../options.js'
import { formatSummary, formatTimings } from '../report/human.js'
import { jsonReport } from '../report/json.js'
import { createProgress } from '../report/progress.js'
import type { Command } from '../types.js'
import { inputKey, readReplay, readState, recordTemplatePath, writeReplay, writeState } from '../state.js'
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
  // the record and the Sigstore TUF client load and run on a side thread,
  // started now so that its modules load while this thread plans
  const side = new SideThread()
  try {
    return await runVerified(command, argv, args, io, options, key, side, { startup, configMs })
  } finally {
    side.close()
  }
}

async function runVerified (command: Command, argv: string[], args: Record<string, any>, io: Io, options: Options, key: string | undefined, side: SideThread, t: { startup: number, configMs: number }): Promise<number> {
  const { startup, configMs } = t
  const quiet = options.loglevel === 'silent'
  const defaultRecord = defaultRecordPath(options.prefix)
  const recordTargets = [...(command !== 'verify' && options.record.enabled ? [defaultRecord] : []), ...(options.record.enabled ? options.record.paths : [])]
  // the TUF targets the signature checks will ask for: asked now, answered by
  // the time they ask (loaded here: a no-op run never needs these modules)
  const [{ tufKeysTargetsOf }, { tufOptions }] = await Promise.all([import('../evidence/keys.js'), import('../evidence/tuf.js')])
  const tufNames = tufKeysTargetsOf(options)
  const template = recordTemplatePath(options)
  void side.call('warm', {
    kinds: recordTargets.length ? ['tuf', 'record'] : ['tuf'],
    template,
    tuf: tufNames.length ? { opts: tufOptions(options), names: tufNames } : undefined,
  }).catch(() => {})
  // the npm libraries load only when there is work to do
  const [{ buildChecks }, { runPipeline }, { formatDiff, isEmptyDiff }, { isAllowed, loadAllowLists }] = await Promise.all([
    import('../checks.js'), import('../pipeline.js'), import('../record/diff.js'), import('../rebuild/allowlist.js'),
  ])
  // ci and install write the tree from the verified content store; install
  // then saves package.json and the lockfile with Arborist's own save step
  const writer = command === 'verify' ? undefined : new (await import('../write/materialize.js')).MaterializeWriter({
    checker: (root, integrities, claim) => side.call('store:check', { root, integrities, claim }),
    extractor: (root, tarballs, integrity) => side.call('store:extract', { root, tarballs, integrity }),
    // inline, the side thread's share would be this thread's anyway
    linker: side.inlineReason === undefined ? (jobs, claim) => side.call('store:link', { jobs, claim }) : undefined,
  })
  const progress = createProgress(options.progress, 'verifying')
  // read before the writer swaps node_modules: the diff is against it
  // (its bytes: as a string, a large record's decoding cost more than its comparison)
  const previous = command === 'verify' ? undefined : await readFile(defaultRecord).catch(() => undefined)
  let diff: RecordDiff | undefined
  const written: string[] = []

  const recordInput = (result: RunResult) => ({
    plan: result.plan,
    evidence: result.evidence,
    options: { policy: options.policy, omit: options.omit, registry: options.registry, scopedRegistries: options.scopedRegistries },
    command: ['safe-install', ...argv].join(' '),
    tool: { name: 'safe-install', version: VERSION },
    libraries: libraryVersions(),
    notes: [...result.notes],
    sources: new Map([...result.verified].map(([loc, p]) => [loc, { tarballUrl: p.tarballUrl, registry: p.registry }])),
  })
  // the record is made on the side thread as soon as the verdicts are in,
  // while the tree is written, and written into the staged tree so that it
  // is swapped in with it; it is made again if the write adds a note
  let prepared: { id: number, notes: number } | undefined
  const prepare = (result: RunResult) => {
    prepared = { id: (prepared?.id ?? 0) + 1, notes: result.notes.length }
    void side.call('record:prepare', { id: prepared.id, input: recordInput(result), specVersion: options.record.specVersion, template }).catch(() => {})
    return prepared
  }
  let heard!: () => void
  const verdictsIn = new Promise<void>(resolve => { heard = resolve })
  const verified = (result: RunResult) => {
    if (!recordTargets.length) return
    prepare(result)
    heard()
  }
  let inTree: Promise<RecordJobResult | undefined> | undefined
  const stageRecord = (stagedDir: string, dropped: AbortSignal): Promise<void> | undefined => {
    if (!recordTargets.includes(defaultRecord)) return undefined
    // a replay stages the tree before the verdicts are in (the swap waits
    // for them anyway); a tree abandoned meanwhile gets nothing written
    const mine = verdictsIn.then(() => dropped.aborted ? undefined : side.call('record:write', { id: prepared!.id, targets: [path.join(stagedDir, path.basename(defaultRecord))], previous }))
    inTree = mine
    return mine.then(() => {})
  }
  const afterWrite = async (result: RunResult) => {
    if (!recordTargets.length) return
    // the write added a note (or no verdicts were heard): made again, for every target
    const current = prepared && prepared.notes === result.notes.length ? prepared : undefined
    const staged = current && inTree ? await inTree : undefined
    if (staged) {
      diff = staged.diff
      written.push(defaultRecord)
    }
    const rest = recordTargets.filter(t => !(staged && t === defaultRecord))
    if (rest.length) {
      const done = await side.call('record:write', { id: (current ?? prepare(result)).id, targets: rest, previous: staged ? undefined : previous })
      diff ??= done.diff
      written.push(...done.written)
    }
  }

  // a ci of inputs verified before replays those verdicts (lib/replay.ts)
  const prior = key && command === 'ci' ? await readReplay(options, key) : undefined
  const loadMs = performance.now() - startup - configMs
  const result = await runPipeline(options, { add: args.specs, prior }, {
    checks: buildChecks(options),
    writer,
    side,
    verified,
    stageRecord,
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
