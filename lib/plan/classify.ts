// Classifies where a lockfile entry comes from, the way npm-package-arg would
// for the specs that point at it. Pure.
import { createRequire } from 'node:module'
import type { SourceType } from '../types.js'

const require = createRequire(import.meta.url)
// loaded on first use: a plan read from the cache classifies nothing
let npaModule: any
const npa = (): any => (npaModule ??= require('npm-package-arg'))

const REGISTRY_SPEC_TYPES = new Set(['version', 'range', 'tag', 'alias'])

export interface ClassifyInput {
  resolved?: string
  /** the specs of the dependency edges that lead to this entry (`^1.2.0`, `npm:x@1`, `github:a/b` ...) */
  specs: readonly { name: string, spec: string }[]
  isLink: boolean
  isWorkspace: boolean
  /** a folder that links point at (a workspace, or a `file:` directory dependency) */
  isLinkTarget?: boolean
}

export function classifySource (input: ClassifyInput): SourceType {
  // Arborist marks a workspace's link as a workspace too: the link is a link
  if (input.isLink) return 'link'
  if (input.isWorkspace) return 'workspace'
  if (input.isLinkTarget) return 'directory'
  const r = input.resolved
  if (r) {
    if (/^git(\+[a-z]+)?:|^(github|gitlab|bitbucket|gist):/i.test(r)) return 'git'
    if (r.startsWith('file:')) return /\.(tgz|tar\.gz|tar)$/i.test(r) ? 'file' : 'directory'
  }
  // an edge that asks the registry makes it a registry package, wherever
  // `resolved` points: a foreign host is then a policy violation, not a
  // "remote" dependency the user asked for
  const types = input.specs.map(({ name, spec }) => specType(name, spec))
  if (types.some(t => t && REGISTRY_SPEC_TYPES.has(t))) return 'registry'
  if (types.includes('git')) return 'git'
  if (types.includes('remote')) return 'remote'
  if (types.includes('file')) return 'file'
  if (types.includes('directory')) return 'directory'
  if (r && /^https?:/i.test(r) && !looksLikeRegistryTarball(r)) return 'remote'
  return 'registry'
}

function specType (name: string, spec: string): string | undefined {
  try {
    return npa().resolve(name, spec).type
  } catch {
    return undefined
  }
}

/** `<registry>/<name>/-/<base>-<version>.tgz`: the shape of a registry tarball URL. */
export function looksLikeRegistryTarball (url: string): boolean {
  try {
    return /\/-\/[^/]+\.tgz$/.test(new URL(url).pathname)
  } catch {
    return false
  }
}

export { isFetchedSource, isLocalSource } from './source-kinds.js'
