// Builders for the pipeline's data types, shared by the unit tests. Each
// suite passes the defaults it cares about; everything else is a plain,
// permissive value.
import type { Options, Policy } from '../../lib/options.js'
import type { PlanEntry } from '../../lib/types.js'

/** A registry PlanEntry at node_modules/<name>, version 1.0.0, a direct dependency. */
export function planEntry (over: Partial<PlanEntry> & { name: string }): PlanEntry {
  return {
    location: `node_modules/${over.name}`,
    installName: over.name,
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

/** Every Policy field, sources closed, checks in their default mode, cooldown and scan off. */
export function policyWith (over: Partial<Policy> = {}): Policy {
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
    auditLevel: 'none',
    advisoryFiles: [],
    registryAdvisories: false,
    minReleaseAgeDays: 0,
    minReleaseAgeExclude: [],
    strictReleaseAge: false,
    scan: false,
    importMethod: 'auto',
    ...over,
  }
}

/** The conventional registry tarball URL of name@version. */
export function tarballUrl (registry: string, name: string, version: string): string {
  return `${registry}${name}/-/${name.split('/').pop()}-${version}.tgz`
}

/** Options for `ci` in /project against `registry`; `policy` is taken as given. */
export function optionsWith (policy: Policy, over: Partial<Options> = {}): Options {
  return {
    command: 'ci',
    prefix: '/project',
    cache: '/cache',
    registry: 'https://registry.example.test/',
    scopedRegistries: {},
    replaceRegistryHost: 'npmjs',
    offline: false,
    preferOffline: false,
    omit: [],
    workspaces: [],
    includeWorkspaceRoot: false,
    allWorkspaces: false,
    json: false,
    loglevel: 'notice',
    progress: false,
    timing: false,
    policy,
    record: { enabled: false, paths: [], specVersion: '1.6' },
    npmFlat: {},
    ...over,
  }
}
