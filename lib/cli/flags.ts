// Command-line flags. npm's own flags are declared here for --help, but
// their values are read by npm's config loader from the raw argv, so they
// behave exactly as in npm. safe-install's policy flags map onto Policy.
import type { Argv } from 'yargs'
import type { CliFlags } from '../config/load.js'
import type { PolicySettings } from '../config/safe-install-field.js'
import type { Command } from '../types.js'

export function npmFlags<T> (y: Argv<T>) {
  return y
    .option('prefix', { type: 'string', group: 'npm config:', describe: 'project folder (as npm --prefix)' })
    .option('cache', { type: 'string', group: 'npm config:', describe: 'npm cache folder' })
    .option('userconfig', { type: 'string', group: 'npm config:', describe: 'user .npmrc to read' })
    .option('registry', { type: 'string', group: 'npm config:', describe: 'default registry (https only)' })
    .option('offline', { type: 'boolean', group: 'npm config:', describe: 'never touch the network; fail if something is not cached' })
    .option('prefer-offline', { type: 'boolean', group: 'npm config:', describe: 'use cached metadata without revalidating' })
    .option('omit', { type: 'string', array: true, group: 'npm config:', describe: 'dependency types not to install: dev, optional, peer' })
    .option('include', { type: 'string', array: true, group: 'npm config:', describe: 'dependency types to install even if omitted' })
    .option('workspace', { alias: 'w', type: 'string', array: true, group: 'npm config:', describe: 'limit to these workspaces' })
    .option('workspaces', { alias: 'ws', type: 'boolean', group: 'npm config:', describe: 'all workspaces' })
    .option('include-workspace-root', { type: 'boolean', group: 'npm config:', describe: 'with --workspace, also the root project' })
    .option('json', { type: 'boolean', group: 'output:', describe: 'print one machine-readable JSON report on stdout' })
    .option('loglevel', { type: 'string', group: 'output:', describe: 'silent, error, warn, notice, info, verbose (as npm)' })
    .option('silent', { type: 'boolean', group: 'output:', describe: 'print nothing; the exit code tells' })
    .option('timing', { type: 'boolean', group: 'output:', describe: 'print where the time went, per phase' })
}

export function policyFlags<T> (y: Argv<T>) {
  const g = 'policy (also in package.json "safeInstall"):'
  return y
    .option('signatures', { type: 'string', choices: ['require', 'verify', 'off'], group: g, describe: 'registry signatures (default verify)' })
    .option('provenance', { type: 'string', choices: ['require', 'verify', 'off'], group: g, describe: 'Sigstore provenance (default verify)' })
    .option('provenance-require', { type: 'string', array: true, group: g, describe: 'names or @scope/* that must have provenance' })
    .option('identity', { type: 'string', choices: ['report', 'require'], group: g, describe: 'provenance repo vs package.json repository (default report)' })
    .option('identity-require', { type: 'string', array: true, group: g, describe: 'names or @scope/* whose identity must match' })
    .option('trust-policy', { type: 'string', choices: ['report', 'no-downgrade'], group: g, describe: 'trust downgrades (default report)' })
    .option('trust-policy-exclude', { type: 'string', array: true, group: g, describe: 'names or @scope/* exempt from the trust policy' })
    .option('trust-policy-ignore-after', { type: 'number', group: g, describe: 'ignore downgrades of versions older than N days' })
    .option('signatures-registry', { type: 'string', group: g, describe: 'fetch signing evidence from this registry (for stripping mirrors)' })
    .option('trusted-root', { type: 'string', group: g, describe: 'Sigstore trusted_root.json to verify provenance with, instead of the public-good root (private deployments)' })
    .option('audit-level', { type: 'string', choices: ['none', 'info', 'low', 'moderate', 'high', 'critical'], group: g, describe: 'refuse advisories at or above (default none: report)' })
    .option('advisories', { type: 'string', array: true, group: g, describe: 'OSV files or folders to check against (offline)' })
    .option('registry-advisories', { type: 'boolean', group: g, describe: 'query the registry advisory endpoint (default true)' })
    .option('min-release-age', { type: 'number', group: g, describe: 'refuse versions younger than N days (default 1)' })
    .option('min-release-age-exclude', { type: 'string', array: true, group: g, describe: 'names or @scope/* exempt from the cooldown' })
    .option('strict-release-age', { type: 'boolean', group: g, describe: 'refuse when the publish time is unknown' })
    .option('scan', { type: 'boolean', group: g, describe: 'static capability scan (default true)' })
    .option('import-method', { type: 'string', choices: ['auto', 'hardlink', 'clone', 'copy'], group: g, describe: 'how files are placed in node_modules' })
    .option('allow-missing-integrity', { type: 'boolean', group: g, describe: 'accept lockfile entries without sha512 integrity' })
    .option('allow-git', { type: 'string', choices: ['all', 'none', 'root'], group: g, describe: 'git dependencies (npm config; default none)' })
    .option('allow-remote', { type: 'string', choices: ['all', 'none', 'root'], group: g, describe: 'remote tarball URLs (npm config; default none)' })
    .option('allow-file', { type: 'string', choices: ['all', 'none', 'root'], group: g, describe: 'file: tarballs (npm config)' })
    .option('allow-directory', { type: 'string', choices: ['all', 'none', 'root'], group: g, describe: 'directory links (npm config)' })
}

export function recordFlags<T> (y: Argv<T>) {
  return y
    .option('record', { type: 'string', array: true, group: 'record:', describe: 'also write the CycloneDX record here (--no-record: none)' })
    .option('record-spec', { type: 'string', choices: ['1.6', '1.7'], group: 'record:', describe: 'CycloneDX spec version (default 1.6)' })
}

type Parsed = Record<string, any>

/** Our flags -> CliFlags. Only flags actually given are set. */
export function toCliFlags (command: Command, a: Parsed): CliFlags {
  const p: PolicySettings = {}
  const set = <K extends keyof PolicySettings>(k: K, v: unknown) => { if (v !== undefined) (p as any)[k] = v }
  set('signatures', a.signatures)
  set('provenance', a.provenance)
  set('provenanceRequireFor', a['provenance-require'])
  set('identity', a.identity)
  set('identityRequireFor', a['identity-require'])
  set('trust', a['trust-policy'])
  set('trustExclude', a['trust-policy-exclude'])
  set('trustIgnoreAfterDays', a['trust-policy-ignore-after'])
  set('signaturesRegistry', a['signatures-registry'])
  set('trustedRoot', a['trusted-root'])
  set('auditLevel', a['audit-level'])
  set('advisoryFiles', a.advisories)
  set('registryAdvisories', a['registry-advisories'])
  set('minReleaseAgeDays', a['min-release-age'])
  set('minReleaseAgeExclude', a['min-release-age-exclude'])
  set('strictReleaseAge', a['strict-release-age'])
  set('scan', a.scan)
  set('importMethod', a['import-method'])
  set('allowMissingIntegrity', a['allow-missing-integrity'])
  set('allowGit', a['allow-git'])
  set('allowRemote', a['allow-remote'])
  set('allowFile', a['allow-file'])
  set('allowDirectory', a['allow-directory'])
  const record: CliFlags['record'] = {}
  if (a.record === false) record.enabled = false
  else if (Array.isArray(a.record)) {
    const paths = a.record.filter((r: unknown): r is string => typeof r === 'string' && r !== '')
    if (a.record.includes(false)) record.enabled = false
    if (paths.length) record.paths = paths
  }
  if (a['record-spec']) record.specVersion = a['record-spec']
  return { command, policy: p, record, timing: Boolean(a.timing) }
}
