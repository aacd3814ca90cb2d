// The no-op fast path. After a successful run, remember what it was run on
// (lockfile, package.json, policy, the options that shape the tree, our
// version) and what it found. A later `install` (no specs) or `verify` on
// the very same inputs cannot reach another verdict for anything immutable,
// so it only repeats what can change: the advisory query. `install` also
// requires the tree on disk to be the one we wrote (npm's hidden lockfile
// untouched since).
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { writeCacheFile } from './cache-file.js'
import type { Options } from './options.js'
import type { SkippedScripts } from './pipeline.js'
import { isReplayData, type ReplayData } from './replay.js'
import type { Plan, PlanEntry } from './types.js'

export interface RunState {
  readonly key: string
  readonly command: string
  readonly at: string
  readonly plan: Plan
  /** registry per location, for the advisory query */
  readonly registries: Record<string, string>
  /** npm's hidden lockfile as we left it (install only) */
  readonly hiddenLockfile?: { size: number, mtimeMs: number }
  readonly stats: Record<string, number>
  readonly scriptsSkipped: readonly SkippedScripts[]
}

export function statePath (options: Options, kind: 'install' | 'verify' | 'replay'): string {
  return projectStateFile(options, `${kind}.json`)
}

/** The last record made for this project, kept as a template (lib/record/template.ts). */
export function recordTemplatePath (options: Options): string {
  return projectStateFile(options, 'record.txt')
}

/** `<cache>/_safe-install/state/<project id>-<name>`: one project's files. */
function projectStateFile (options: Options, name: string): string {
  const id = crypto.createHash('sha256').update(options.prefix).digest('hex').slice(0, 32)
  return path.join(options.cache, '_safe-install', 'state', `${id}-${name}`)
}

const hiddenLockfile = (options: Options) => path.join(options.prefix, 'node_modules', '.package-lock.json')

/** Everything that decides the verdict, hashed. */
export async function inputKey (options: Options, version: string): Promise<string | undefined> {
  const h = crypto.createHash('sha256')
  for (const f of ['package.json', 'package-lock.json', 'npm-shrinkwrap.json']) {
    const data = await fs.readFile(path.join(options.prefix, f)).catch(() => undefined)
    if (f === 'package.json' && !data) return undefined
    h.update(f).update('\0').update(data ?? '').update('\0')
  }
  h.update(JSON.stringify({
    version,
    policy: options.policy,
    record: options.record,
    registry: options.registry,
    scoped: options.scopedRegistries,
    replace: options.replaceRegistryHost,
    omit: options.omit,
    workspaces: options.workspaces,
    all: options.allWorkspaces,
    root: options.includeWorkspaceRoot,
    offline: options.offline,
  }))
  return h.digest('hex')
}

export async function readState (options: Options, kind: 'install' | 'verify', key: string): Promise<RunState | undefined> {
  let state: RunState
  try {
    state = JSON.parse(await fs.readFile(statePath(options, kind), 'utf8'))
  } catch {
    return undefined
  }
  if (state.key !== key) return undefined
  if (kind === 'install') {
    const st = await fs.stat(hiddenLockfile(options)).catch(() => undefined)
    if (!st || !state.hiddenLockfile || st.size !== state.hiddenLockfile.size || st.mtimeMs !== state.hiddenLockfile.mtimeMs) return undefined
  }
  return state
}

export async function writeState (options: Options, kind: 'install' | 'verify', s: Omit<RunState, 'hiddenLockfile'>): Promise<void> {
  let hidden: RunState['hiddenLockfile']
  if (kind === 'install') {
    const st = await fs.stat(hiddenLockfile(options)).catch(() => undefined)
    if (!st) return
    hidden = { size: st.size, mtimeMs: st.mtimeMs }
  }
  await writeCacheFile(statePath(options, kind), { ...s, hiddenLockfile: hidden })
}

/** The verdicts a full run left for a later `ci` of the same inputs (lib/replay.ts), in their own file: the no-op path never reads them. */
export async function readReplay (options: Options, key: string): Promise<ReplayData | undefined> {
  try {
    const doc = JSON.parse(await fs.readFile(statePath(options, 'replay'), 'utf8'))
    return doc?.key === key && isReplayData(doc.data) ? doc.data : undefined
  } catch {
    return undefined
  }
}

export async function writeReplay (options: Options, key: string, data: ReplayData): Promise<void> {
  await writeCacheFile(statePath(options, 'replay'), { key, data })
}

export async function forgetState (options: Options): Promise<void> {
  const files = [...(['install', 'verify', 'replay'] as const).map(k => statePath(options, k)), recordTemplatePath(options)]
  await Promise.all(files.map(f => fs.rm(f, { force: true }).catch(() => {})))
}

export type { PlanEntry }
