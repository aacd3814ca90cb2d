// Shared builders for the core unit tests (pure data, no I/O).
import type { Policy } from '../../../lib/options.js'
import type { PlanEntry } from '../../../lib/types.js'

export function makeEntry (over: Partial<PlanEntry> & { name: string }): PlanEntry {
  const name = over.name
  return {
    location: `node_modules/${name}`,
    installName: name,
    version: '1.0.0',
    source: 'registry',
    dev: false,
    optional: false,
    devOptional: false,
    peer: false,
    bundled: false,
    hasInstallScript: false,
    isRootDependency: true,
    dependencies: [],
    ...over,
  }
}

export function makePolicy (over: Partial<Policy> = {}): Policy {
  return {
    allowGit: 'none',
    allowRemote: 'none',
    allowFile: 'none',
    allowDirectory: 'none',
    allowMissingIntegrity: false,
    signatures: 'verify',
    provenance: 'verify',
    provenanceRequireFor: [],
    identity: 'report',
    identityRequireFor: [],
    trust: 'report',
    trustExclude: [],
    auditLevel: 'high',
    advisoryFiles: [],
    registryAdvisories: false,
    minReleaseAgeDays: 0,
    minReleaseAgeExclude: [],
    strictReleaseAge: false,
    scan: true,
    importMethod: 'auto',
    ...over,
  }
}

/** A syntactically valid sha512 SRI string (64 bytes of `fill`). */
export function sha512 (fill = 1): string {
  return 'sha512-' + Buffer.alloc(64, fill).toString('base64')
}

/** A syntactically valid sha1 SRI string (20 bytes of `fill`). */
export function sha1 (fill = 1): string {
  return 'sha1-' + Buffer.alloc(20, fill).toString('base64')
}
