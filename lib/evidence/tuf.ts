// Access to the Sigstore public-good TUF repository (trusted root, npm
// registry keys), with a bounded wait and an offline fallback to the copies
// embedded in @sigstore/tuf's seeds.json. Never hangs, never throws.
import { createRequire } from 'node:module'
import path from 'node:path'
import type { TUF } from '@sigstore/tuf'
import type { SideThread } from '../offload/side-thread.js'
import { errorMessage, withTimeout } from './util.js'

const require = createRequire(import.meta.url)

/** The mirror @sigstore/tuf seeds (its DEFAULT_MIRROR_URL). */
export const SIGSTORE_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev'
export const TRUSTED_ROOT_TARGET = 'trusted_root.json'
export const DEFAULT_TUF_TIMEOUT_MS = 5_000

export interface TufTarget {
  readonly text: string
  /** 'tuf': fetched and verified through TUF now; 'embedded': the copy shipped in @sigstore/tuf */
  readonly source: 'tuf' | 'embedded'
  /** when embedded: why TUF was not used */
  readonly reason?: string
}

export interface SigstoreTargets {
  /** a TUF target by name (e.g. `trusted_root.json`, `<registry host>/keys.json`); undefined if neither TUF nor the embedded copy has it */
  target (name: string): Promise<TufTarget | undefined>
}

export interface SigstoreTargetsOptions {
  /** TUF cache folder (e.g. `<npm cache>/_safe-install/tuf`) */
  readonly cachePath: string
  /** don't touch the network: use the embedded copies */
  readonly offline?: boolean
  /** bound on each TUF step (refresh, target download) */
  readonly timeoutMs?: number
  /** for tests: another mirror (needs rootPath) */
  readonly mirrorURL?: string
  readonly rootPath?: string
}

/** TUF targets embedded in @sigstore/tuf's seeds.json (base64), by target name. */
export function embeddedTarget (name: string): string | undefined {
  try {
    const seeds = require('@sigstore/tuf/seeds.json') as Record<string, { targets?: Record<string, string> }>
    const targets = seeds[SIGSTORE_TUF_MIRROR]?.targets ?? {}
    const b64 = targets[encodeURIComponent(name)] ?? targets[name]
    return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8')
  } catch {
    return undefined
  }
}

/**
 * One TUF client per run: the metadata refresh happens at most once; if it
 * fails or exceeds the timeout, every target comes from the embedded copy.
 */
export function createSigstoreTargets (opts: SigstoreTargetsOptions): SigstoreTargets {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TUF_TIMEOUT_MS
  let client: Promise<{ tuf?: TUF, reason?: string }> | undefined
  const targets = new Map<string, Promise<TufTarget | undefined>>()

  const getClient = () => {
    client ??= (async () => {
      if (opts.offline) return { reason: 'offline mode' }
      try {
        // loaded here: a run whose keys come from elsewhere never needs it
        const { initTUF } = await import('@sigstore/tuf')
        const tuf = await withTimeout(initTUF({
          cachePath: opts.cachePath,
          mirrorURL: opts.mirrorURL,
          rootPath: opts.rootPath,
          timeout: timeoutMs,
          retry: false,
          forceCache: false,
        }), timeoutMs, 'the Sigstore TUF repository')
        return { tuf }
      } catch (err) {
        return { reason: errorMessage(err) }
      }
    })()
    return client
  }

  const fallback = (name: string, reason: string): TufTarget | undefined => {
    const text = embeddedTarget(name)
    return text === undefined ? undefined : { text, source: 'embedded', reason }
  }

  return {
    target (name: string) {
      let found = targets.get(name)
      if (!found) {
        found = (async () => {
          const { tuf, reason } = await getClient()
          if (!tuf) return fallback(name, reason ?? 'unreachable')
          try {
            const text = await withTimeout(tuf.getTarget(name), timeoutMs, `TUF target ${name}`)
            return { text, source: 'tuf' as const }
          } catch (err) {
            const code = (err as { code?: string }).code
            // a target the repository does not list is not a reason to use an old copy of it
            if (code === 'TUF_FIND_TARGET_ERROR') return undefined
            return fallback(name, errorMessage(err))
          }
        })()
        targets.set(name, found)
      }
      return found
    },
  }
}

/**
 * The same targets, asked of the run's side thread: @sigstore/tuf loads and
 * the repository is asked there, not in line with the main thread's work.
 */
export function sideThreadTargets (side: SideThread, opts: SigstoreTargetsOptions): SigstoreTargets {
  const targets = new Map<string, Promise<TufTarget | undefined>>()
  return {
    target (name: string) {
      let found = targets.get(name)
      if (!found) targets.set(name, found = side.call('tuf:target', { opts, name }))
      return found
    },
  }
}

/** The TUF cache folder under npm's cache. */
export function tufCachePath (npmCache: string): string {
  return path.join(npmCache, '_safe-install', 'tuf')
}

/** The run's TUF options: one client per run, wherever it is asked from (the side thread keys its clients by them). */
export function tufOptions (options: { readonly cache: string, readonly offline: boolean }, timeoutMs?: number): SigstoreTargetsOptions {
  return { cachePath: tufCachePath(options.cache), offline: options.offline, timeoutMs }
}
