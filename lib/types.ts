// The data that flows through the pipeline. Pure modules depend only on this
// file; I/O modules produce and consume these shapes.

export type Command = 'ci' | 'install' | 'verify' | 'rebuild' | 'diff'

/** npm's `allow-git` / `allow-remote` / `allow-file` / `allow-directory` values. */
export type AllowSetting = 'all' | 'none' | 'root'

export type SignaturesMode = 'require' | 'verify' | 'off'
export type ProvenanceMode = 'require' | 'verify' | 'off'
export type IdentityMode = 'report' | 'require'
export type TrustMode = 'report' | 'no-downgrade'
export type AuditLevel = 'none' | 'info' | 'low' | 'moderate' | 'high' | 'critical'
export type ImportMethod = 'auto' | 'hardlink' | 'clone' | 'copy'

/** How a lockfile entry is sourced, as npm-package-arg would classify it. */
export type SourceType = 'registry' | 'git' | 'remote' | 'file' | 'directory' | 'link' | 'workspace'

/** One package of the lockfile, independent of Arborist's classes. */
export interface PlanEntry {
  /** lockfile key, e.g. `node_modules/@scope/a/node_modules/b` */
  readonly location: string
  /** the real package name (for an alias `x@npm:y@1`, `y`) */
  readonly name: string
  /** the folder name it is installed under (differs from name for aliases) */
  readonly installName: string
  readonly version: string
  /** `resolved` as written in the lockfile; undefined when the lockfile omits it */
  readonly resolved?: string
  /** `integrity` as written in the lockfile */
  readonly integrity?: string
  readonly source: SourceType
  readonly dev: boolean
  readonly optional: boolean
  readonly devOptional: boolean
  readonly peer: boolean
  /** inBundle: shipped inside another package's tarball, never fetched alone */
  readonly bundled: boolean
  /** lockfile `hasInstallScript` */
  readonly hasInstallScript: boolean
  /** a direct dependency of the root project or of a workspace */
  readonly isRootDependency: boolean
  /** lockfile keys of the entries this one depends on (resolved edges) */
  readonly dependencies: readonly string[]
  /** license from the lockfile, when present */
  readonly license?: string
}

export interface Plan {
  /** absolute path of the project */
  readonly root: string
  readonly rootName: string
  readonly rootVersion: string
  /** lockfile file name used (package-lock.json or npm-shrinkwrap.json) */
  readonly lockfile: string
  /** every entry that will be installed, root excluded, sorted by location */
  readonly entries: readonly PlanEntry[]
  /** lockfile keys of the root's direct dependencies */
  readonly rootDependencies: readonly string[]
  /** workspace folders (relative to root), with their direct dependencies */
  readonly workspaces: readonly { location: string, name: string, version: string, dependencies: readonly string[] }[]
}

export type Severity = 'error' | 'warning'

/** A refusal or warning, as a value, until the report renders it. */
export interface Violation {
  /** stable code, one of ERROR_CODES */
  readonly code: string
  readonly message: string
  /** package spec it concerns, `name@version` */
  readonly package?: string
  /** lockfile key, e.g. node_modules/foo */
  readonly path?: string
  /** what the user can do about it */
  readonly fix?: string
  /** defaults to 'error' */
  readonly severity?: Severity
}

/** One tar entry of a package tarball, as listed before extraction. */
export interface TarEntry {
  /** path inside the package, with the leading `package/` folder removed */
  readonly path: string
  readonly type: 'file' | 'directory' | 'symlink' | 'link' | 'other'
  readonly size: number
  readonly mode: number
  readonly linkpath?: string
}

/** A package whose bytes were checked against the lockfile integrity. */
export interface VerifiedPackage {
  readonly entry: PlanEntry
  /** the verified integrity (the lockfile's, normalised to the strongest algorithm) */
  readonly integrity: string
  readonly from: 'network' | 'cache'
  /** tarball URL the bytes came from (or would have) */
  readonly tarballUrl: string
  /** registry base URL serving this package (with trailing slash) */
  readonly registry: string
  /** package.json inside the tarball */
  readonly manifest: Readonly<Record<string, any>>
  /** the packument's version document (`versions[v]`), when the registry gave one */
  readonly registryManifest?: Readonly<Record<string, any>>
  /** every tar entry, for structure and capability checks */
  readonly files: readonly TarEntry[]
  /** reads a file of the tarball (path as in `files`); only small text files are kept */
  readonly readFile: (path: string) => Buffer | undefined
}

// ---- evidence outcomes: every check says what it found, or why it did not look ----

export type SignatureStatus = 'verified' | 'invalid' | 'missing' | 'not-checked'
export interface SignatureOutcome {
  readonly status: SignatureStatus
  readonly keyid?: string
  /** why not checked / why invalid */
  readonly reason?: string
  /** where the key came from: 'tuf' | 'keys-endpoint' | 'embedded' */
  readonly keySource?: string
}

export type ProvenanceStatus = 'verified' | 'invalid' | 'absent' | 'not-checked'
export interface ProvenanceOutcome {
  readonly status: ProvenanceStatus
  readonly reason?: string
  readonly sourceRepository?: string
  readonly commit?: string
  readonly ref?: string
  readonly workflow?: string
  readonly builder?: string
  readonly buildTrigger?: string
  readonly rekorLogIndex?: string
  /** whether the npm publish attestation (registry-signed) verified */
  readonly publishAttestation?: 'verified' | 'invalid' | 'absent'
  /** where the trusted root came from: 'tuf' | 'embedded' | 'file' (`policy.trustedRoot`) */
  readonly trustedRootSource?: string
}

export type IdentityStatus = 'match' | 'mismatch' | 'no-repository' | 'not-checked'
export interface IdentityOutcome {
  readonly status: IdentityStatus
  readonly declared?: string
  readonly attested?: string
}

/** 3 trusted publisher + provenance, 2 provenance, 1 registry signature only, 0 nothing */
export type TrustLevel = 0 | 1 | 2 | 3
export interface TrustOutcome {
  readonly level: TrustLevel
  readonly downgrade: boolean
  /** the earlier version that had stronger evidence */
  readonly previous?: { version: string, level: TrustLevel }
  readonly reason?: string
}

export interface AdvisoryFinding {
  readonly id: string
  readonly title: string
  readonly severity: Exclude<AuditLevel, 'none'>
  readonly url?: string
  readonly malware: boolean
  readonly source: 'registry' | 'osv'
  readonly range?: string
}

export interface ScanResult {
  /** capability names, e.g. 'child_process', 'network', 'eval', 'native', 'install-scripts' */
  readonly capabilities: readonly string[]
  /** a few examples per capability: file and line */
  readonly findings: readonly { capability: string, file: string, line?: number, detail?: string }[]
}

export interface ReleaseAgeOutcome {
  readonly published?: string
  readonly ageDays?: number
  readonly status: 'ok' | 'too-new' | 'excluded' | 'unknown' | 'not-checked'
}

/** Everything known about one package after the checks, keyed by location in RunResult. */
export interface PackageEvidence {
  integritySource: 'network' | 'cache' | 'bundled' | 'link'
  signature?: SignatureOutcome
  provenance?: ProvenanceOutcome
  identity?: IdentityOutcome
  trust?: TrustOutcome
  advisories?: AdvisoryFinding[]
  scan?: ScanResult
  releaseAge?: ReleaseAgeOutcome
  /** lifecycle scripts the package declares (incl. implicit node-gyp) */
  scripts: string[]
}

/** Run-wide facts a check wants the record and report to state (e.g. "keys from embedded copy"). */
export interface RunNote {
  readonly check: string
  readonly message: string
  readonly level: 'info' | 'warning'
}
