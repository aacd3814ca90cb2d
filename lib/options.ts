// The one typed, frozen options object every module receives. Built once by
// lib/config/load.ts from npm config (@npmcli/config) + package.json
// `safeInstall` + CLI flags. Nobody below the CLI re-reads config.
import type {
  AllowSetting, AuditLevel, Command, IdentityMode, ImportMethod, ProvenanceMode, SignaturesMode, TrustMode,
} from './types.js'

export interface Options {
  readonly command: Command
  /** absolute project folder */
  readonly prefix: string
  /** npm's cache folder (cacache lives in `<cache>/_cacache`) */
  readonly cache: string
  /** the default registry, normalised with a trailing slash */
  readonly registry: string
  /** `@scope` -> registry URL (trailing slash) */
  readonly scopedRegistries: Readonly<Record<string, string>>
  /** npm's `replace-registry-host` ('npmjs' | 'never' | 'always' | hostname) */
  readonly replaceRegistryHost: string
  readonly offline: boolean
  readonly preferOffline: boolean
  readonly omit: readonly ('dev' | 'optional' | 'peer')[]
  readonly workspaces: readonly string[]
  readonly includeWorkspaceRoot: boolean
  readonly allWorkspaces: boolean
  readonly json: boolean
  readonly loglevel: string
  /** a TTY and not CI: show progress on stderr */
  readonly progress: boolean
  /** print per-phase timings */
  readonly timing: boolean

  readonly policy: Policy
  readonly record: RecordOptions

  /**
   * npm's flattened config (as `npm.flatOptions`), for Arborist, pacote and
   * npm-registry-fetch: auth, ca, proxies, retries, scoped registries.
   */
  readonly npmFlat: Readonly<Record<string, any>>
}

export interface Policy {
  /** sources (SCVS 4.1) */
  readonly allowGit: AllowSetting
  readonly allowRemote: AllowSetting
  readonly allowFile: AllowSetting
  readonly allowDirectory: AllowSetting
  /** accept lockfile entries without a sha512 integrity */
  readonly allowMissingIntegrity: boolean
  /** registry signatures (SCVS 4.12) */
  readonly signatures: SignaturesMode
  /** provenance (SCVS 4.10); `requireFor` lists names or `@scope/*` */
  readonly provenance: ProvenanceMode
  readonly provenanceRequireFor: readonly string[]
  /** provenance repository vs manifest repository */
  readonly identity: IdentityMode
  readonly identityRequireFor: readonly string[]
  /** trust downgrade */
  readonly trust: TrustMode
  readonly trustExclude: readonly string[]
  /** ignore downgrades of versions published more than this many days ago */
  readonly trustIgnoreAfterDays?: number
  /** a registry to fetch signing evidence from, when the configured one strips it */
  readonly signaturesRegistry?: string
  /** a Sigstore trusted_root.json (absolute path) used instead of the public-good root (TUF or embedded) */
  readonly trustedRoot?: string
  /** advisories (SCVS 4.6-4.9) */
  readonly auditLevel: AuditLevel
  readonly advisoryFiles: readonly string[]
  /** check the registry's bulk advisory endpoint */
  readonly registryAdvisories: boolean
  /** release-age cooldown in days (0 = off) */
  readonly minReleaseAgeDays: number
  readonly minReleaseAgeExclude: readonly string[]
  /** refuse when the publish time is unknown */
  readonly strictReleaseAge: boolean
  /** static capability scan (SCVS 4.17) */
  readonly scan: boolean
  /** how node_modules files are made from the store */
  readonly importMethod: ImportMethod
}

export interface RecordOptions {
  readonly enabled: boolean
  /** extra paths (`--record`) besides node_modules/.safe-install/record.cdx.json */
  readonly paths: readonly string[]
  readonly specVersion: '1.6' | '1.7'
}

export function freeze<T> (obj: T): T {
  if (obj && typeof obj === 'object' && !Object.isFrozen(obj)) {
    Object.freeze(obj)
    for (const v of Object.values(obj as object)) freeze(v)
  }
  return obj
}
