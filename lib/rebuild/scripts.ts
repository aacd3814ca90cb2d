// Which install-time lifecycle scripts a package has (pure), as npm counts
// them: preinstall, install, postinstall, prepare (for non-registry sources
// only: npm never runs a registry dependency's prepare), and the implicit
// `node-gyp rebuild` install script when `binding.gyp` is at the package root
// and there is no install/preinstall script (unless `gypfile: false`).
import type { SourceType, TarEntry } from '../types.js'

export const LIFECYCLE_EVENTS = ['preinstall', 'install', 'postinstall', 'prepare'] as const
export type LifecycleEvent = typeof LIFECYCLE_EVENTS[number]

export const DEFAULT_GYP_INSTALL_SCRIPT = 'node-gyp rebuild'

export interface LifecycleScript {
  readonly event: LifecycleEvent
  readonly cmd: string
  /** the node-gyp default, not written in package.json */
  readonly implicit?: boolean
}

export interface LifecycleOptions {
  /**
   * where the package comes from; `prepare` is listed only when this is
   * given and is not 'registry' (a registry tarball was prepared at publish)
   */
  readonly source?: SourceType
}

/**
 * The lifecycle scripts a package would run at install, in run order.
 * `files` are the package's paths (or tar entries), relative to its folder,
 * or a predicate telling whether a path is a file.
 */
export function lifecycleScripts (
  manifest: Readonly<Record<string, any>> | undefined,
  files: readonly (string | Pick<TarEntry, 'path' | 'type'>)[] | ((path: string) => boolean),
  opts: LifecycleOptions = {},
): LifecycleScript[] {
  const raw = manifest && typeof manifest.scripts === 'object' && manifest.scripts !== null ? manifest.scripts : {}
  const get = (event: LifecycleEvent): string | undefined => {
    const v = raw[event]
    return typeof v === 'string' && v.trim() !== '' ? v : undefined
  }
  const out: LifecycleScript[] = []
  const pre = get('preinstall')
  const install = get('install')
  const post = get('postinstall')
  const prepare = get('prepare')
  if (pre) out.push({ event: 'preinstall', cmd: pre })
  if (install) {
    out.push({ event: 'install', cmd: install })
  } else if (!pre && manifest?.gypfile !== false && hasFile(files, 'binding.gyp')) {
    out.push({ event: 'install', cmd: DEFAULT_GYP_INSTALL_SCRIPT, implicit: true })
  }
  if (post) out.push({ event: 'postinstall', cmd: post })
  if (prepare && opts.source !== undefined && opts.source !== 'registry') out.push({ event: 'prepare', cmd: prepare })
  return out
}

/** The event names, e.g. for PackageEvidence.scripts. */
export function scriptNames (scripts: readonly LifecycleScript[]): string[] {
  return scripts.map(s => s.implicit ? `${s.event} (${s.cmd})` : s.event)
}

function hasFile (files: readonly (string | Pick<TarEntry, 'path' | 'type'>)[] | ((path: string) => boolean), path: string): boolean {
  if (typeof files === 'function') return files(path)
  return files.some(f => typeof f === 'string'
    ? normalise(f) === path
    : normalise(f.path) === path && (f.type === undefined || f.type === 'file'))
}

function normalise (p: string): string {
  return p.replace(/\\/g, '/').replace(/^\.\//, '')
}
