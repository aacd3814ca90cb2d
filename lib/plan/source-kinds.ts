// Which lockfile sources are fetched and which are local folders: apart from
// classify.ts (and npm-package-arg), for the paths that only need to know this.
import type { SourceType } from '../types.js'

/** Sources whose bytes are fetched and checked against an integrity. */
export function isFetchedSource (source: SourceType): boolean {
  return source === 'registry' || source === 'remote' || source === 'file'
}

/** Sources that are local folders linked into node_modules: nothing is fetched. */
export function isLocalSource (source: SourceType): boolean {
  return source === 'link' || source === 'workspace' || source === 'directory'
}
