// Parses safe-install's own settings from the `safeInstall` field of
// package.json (never from .npmrc: npm 12 warns on unknown keys there).
// Pure: object in, settings or a list of problems out.
import type { Policy, RecordOptions } from '../options.js'

export type PolicySettings = Partial<Policy> & { record?: Partial<RecordOptions> }

type Kind = { enum: readonly string[] } | 'boolean' | 'number' | 'string' | 'string[]'

/** Every accepted setting, its type, and the Policy field it sets. */
export const SETTINGS: Readonly<Record<string, { kind: Kind, field: keyof Policy, doc: string }>> = {
  allowGit: { kind: { enum: ['all', 'none', 'root'] }, field: 'allowGit', doc: 'git dependencies (npm allow-git)' },
  allowRemote: { kind: { enum: ['all', 'none', 'root'] }, field: 'allowRemote', doc: 'remote tarball URLs (npm allow-remote)' },
  allowFile: { kind: { enum: ['all', 'none', 'root'] }, field: 'allowFile', doc: 'file: tarballs (npm allow-file)' },
  allowDirectory: { kind: { enum: ['all', 'none', 'root'] }, field: 'allowDirectory', doc: 'directory dependencies (npm allow-directory)' },
  allowMissingIntegrity: { kind: 'boolean', field: 'allowMissingIntegrity', doc: 'accept lockfile entries without sha512 integrity' },
  signatures: { kind: { enum: ['require', 'verify', 'off'] }, field: 'signatures', doc: 'registry signatures' },
  provenance: { kind: { enum: ['require', 'verify', 'off'] }, field: 'provenance', doc: 'Sigstore provenance' },
  provenanceRequire: { kind: 'string[]', field: 'provenanceRequireFor', doc: 'names or @scope/* that must have provenance' },
  identity: { kind: { enum: ['report', 'require'] }, field: 'identity', doc: 'provenance repository vs package.json repository' },
  identityRequire: { kind: 'string[]', field: 'identityRequireFor', doc: 'names or @scope/* whose identity must match' },
  trustPolicy: { kind: { enum: ['report', 'no-downgrade'] }, field: 'trust', doc: 'trust downgrade policy' },
  trustPolicyExclude: { kind: 'string[]', field: 'trustExclude', doc: 'names or @scope/* exempt from the trust policy' },
  trustPolicyIgnoreAfter: { kind: 'number', field: 'trustIgnoreAfterDays', doc: 'ignore downgrades of versions older than N days' },
  signaturesRegistry: { kind: 'string', field: 'signaturesRegistry', doc: 'registry to fetch signing evidence from' },
  trustedRoot: { kind: 'string', field: 'trustedRoot', doc: 'Sigstore trusted_root.json to verify provenance with, instead of the public-good root' },
  auditLevel: { kind: { enum: ['none', 'info', 'low', 'moderate', 'high', 'critical'] }, field: 'auditLevel', doc: 'refuse advisories at or above' },
  advisories: { kind: 'string[]', field: 'advisoryFiles', doc: 'OSV files or folders' },
  registryAdvisories: { kind: 'boolean', field: 'registryAdvisories', doc: 'query the registry advisory endpoint' },
  minReleaseAge: { kind: 'number', field: 'minReleaseAgeDays', doc: 'release-age cooldown in days' },
  minReleaseAgeExclude: { kind: 'string[]', field: 'minReleaseAgeExclude', doc: 'names or @scope/* exempt from the cooldown' },
  strictReleaseAge: { kind: 'boolean', field: 'strictReleaseAge', doc: 'refuse when the publish time is unknown' },
  scan: { kind: 'boolean', field: 'scan', doc: 'static capability scan' },
  importMethod: { kind: { enum: ['auto', 'hardlink', 'clone', 'copy'] }, field: 'importMethod', doc: 'how files are placed in node_modules' },
}

function checkValue (kind: Kind, value: unknown): string | undefined {
  if (kind === 'boolean') return typeof value === 'boolean' ? undefined : 'expected true or false'
  if (kind === 'number') return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? undefined : 'expected a number >= 0'
  if (kind === 'string') return typeof value === 'string' && value ? undefined : 'expected a string'
  if (kind === 'string[]') {
    return Array.isArray(value) && value.every(v => typeof v === 'string') ? undefined : 'expected an array of strings'
  }
  return typeof value === 'string' && kind.enum.includes(value) ? undefined : `expected one of ${kind.enum.join(', ')}`
}

export function parseSafeInstallField (field: unknown): { settings: PolicySettings, problems: string[] } {
  const settings: Record<string, unknown> = {}
  const problems: string[] = []
  if (field === undefined || field === null) return { settings, problems }
  if (typeof field !== 'object' || Array.isArray(field)) {
    return { settings, problems: ['"safeInstall" in package.json must be an object'] }
  }
  for (const [key, value] of Object.entries(field)) {
    if (key === 'record') {
      const rec = parseRecord(value)
      problems.push(...rec.problems)
      settings.record = rec.record
      continue
    }
    const def = Object.hasOwn(SETTINGS, key) ? SETTINGS[key] : undefined
    if (!def) {
      problems.push(`unknown setting safeInstall.${key} (known: ${[...Object.keys(SETTINGS), 'record'].join(', ')})`)
      continue
    }
    const bad = checkValue(def.kind, value)
    if (bad) problems.push(`safeInstall.${key}: ${bad}, got ${JSON.stringify(value)}`)
    else settings[def.field] = value
  }
  return { settings: settings as PolicySettings, problems }
}

function parseRecord (value: unknown): { record: Partial<RecordOptions>, problems: string[] } {
  if (typeof value === 'boolean') return { record: { enabled: value }, problems: [] }
  if (!value || typeof value !== 'object') return { record: {}, problems: ['safeInstall.record: expected true, false or { enabled, specVersion }'] }
  const out: { enabled?: boolean, specVersion?: '1.6' | '1.7' } = {}
  const problems: string[] = []
  const v = value as Record<string, unknown>
  if ('enabled' in v) {
    if (typeof v.enabled === 'boolean') out.enabled = v.enabled
    else problems.push('safeInstall.record.enabled: expected true or false')
  }
  if ('specVersion' in v) {
    if (v.specVersion === '1.6' || v.specVersion === '1.7') out.specVersion = v.specVersion
    else problems.push('safeInstall.record.specVersion: expected "1.6" or "1.7"')
  }
  return { record: out, problems }
}
