// Builds the one frozen Options object from npm's own config loader
// (builtin, global, user, project .npmrc, npm_config_* env, CLI: layered
// exactly as npm does), package.json's `safeInstall` field, and our flags.
import { createRequire } from 'node:module'
import fs from 'node:fs'
import path from 'node:path'
import { SafeInstallError } from '../errors.js'
import { freeze, type Options, type Policy, type RecordOptions } from '../options.js'
import type { AllowSetting, AuditLevel, Command } from '../types.js'
import { parseSafeInstallField, type PolicySettings } from './safe-install-field.js'

const require = createRequire(import.meta.url)
const Config = require('@npmcli/config')
const { definitions, flatten, shorthands, nerfDarts } = require('@npmcli/config/lib/definitions')

/** The registry npm uses when none is configured (from npm's own definitions). */
export const DEFAULT_REGISTRY: string = withSlash(definitions.registry.default)

export function withSlash (url: string): string {
  return url.endsWith('/') ? url : url + '/'
}

/** What the CLI parsed that is ours (not npm config). */
export interface CliFlags {
  command: Command
  /** policy overrides from flags; they win over package.json */
  policy?: PolicySettings
  record?: { enabled?: boolean, paths?: string[], specVersion?: '1.6' | '1.7' }
  timing?: boolean
}

export interface LoadInput {
  argv: string[]
  env?: NodeJS.ProcessEnv
  cwd?: string
  flags: CliFlags
  isTTY?: boolean
}

export async function loadOptions (input: LoadInput): Promise<Options> {
  const env = input.env ?? process.env
  const config = new Config({
    definitions,
    shorthands,
    flatten,
    nerfDarts,
    // no builtin npmrc of our own: npm's global and user files still apply
    npmPath: path.resolve(path.dirname(require.resolve('@npmcli/config/package.json')), '..', '..'),
    argv: ['node', 'safe-install', ...input.argv],
    env,
    cwd: input.cwd ?? process.cwd(),
    warn: false,
  })
  try {
    await config.load()
  } catch (err) {
    throw new SafeInstallError('ESICONFIG', `npm configuration could not be loaded: ${(err as Error).message}`, { cause: err })
  }
  let flat: Record<string, any>
  try {
    flat = { ...config.flat }
  } catch (err) {
    // e.g. a cafile that cannot be read: npm's flatten reads it
    const msg = (err as Error).message
    if (/cafile|ENOENT/i.test(msg)) {
      throw new SafeInstallError('ESICAFILE', `the configured cafile cannot be read: ${msg}`, { fix: 'point cafile at a readable PEM file' })
    }
    throw new SafeInstallError('ESICONFIG', `npm configuration is invalid: ${msg}`)
  }

  const prefix: string = config.localPrefix
  const pkg = readPackageJsonForConfig(prefix)
  const { settings: fromPkg, problems } = parseSafeInstallField(pkg?.safeInstall)
  if (problems.length) {
    throw new SafeInstallError('ESIUSAGE', `invalid "safeInstall" in ${path.join(prefix, 'package.json')}: ${problems.join('; ')}`, {
      path: path.join(prefix, 'package.json'),
    })
  }
  const fromCli = input.flags.policy ?? {}
  const explicit = (key: string): boolean => {
    const where = config.find(key)
    return where !== null && where !== 'default'
  }

  const allow = (key: string, field: keyof PolicySettings, strictDefault?: AllowSetting): AllowSetting =>
    (fromCli[field] as AllowSetting | undefined) ??
    (explicit(key) ? config.get(key) as AllowSetting : undefined) ??
    (fromPkg[field] as AllowSetting | undefined) ??
    strictDefault ?? config.get(key) as AllowSetting

  const npmMinAge = explicit('min-release-age') ? Number(config.get('min-release-age')) : undefined
  const npmAuditLevel = explicit('audit-level') ? config.get('audit-level') as AuditLevel : undefined
  const pick = <K extends keyof Policy>(field: K, fallback: Policy[K]): Policy[K] =>
    (fromCli[field] ?? fromPkg[field] ?? fallback) as Policy[K]

  const policy: Policy = {
    allowGit: allow('allow-git', 'allowGit', 'none'),
    allowRemote: allow('allow-remote', 'allowRemote', 'none'),
    allowFile: allow('allow-file', 'allowFile'),
    allowDirectory: allow('allow-directory', 'allowDirectory'),
    allowMissingIntegrity: pick('allowMissingIntegrity', false),
    signatures: pick('signatures', 'verify'),
    provenance: pick('provenance', 'verify'),
    provenanceRequireFor: pick('provenanceRequireFor', []),
    identity: pick('identity', 'report'),
    identityRequireFor: pick('identityRequireFor', []),
    trust: pick('trust', 'report'),
    trustExclude: pick('trustExclude', []),
    trustIgnoreAfterDays: pick('trustIgnoreAfterDays', undefined),
    signaturesRegistry: fromCli.signaturesRegistry ?? fromPkg.signaturesRegistry
      ? withSlash((fromCli.signaturesRegistry ?? fromPkg.signaturesRegistry)!)
      : undefined,
    // a flag is relative to where it was typed, the package.json setting to the project
    trustedRoot: fromCli.trustedRoot
      ? path.resolve(input.cwd ?? process.cwd(), fromCli.trustedRoot)
      : fromPkg.trustedRoot ? path.resolve(prefix, fromPkg.trustedRoot) : undefined,
    auditLevel: fromCli.auditLevel ?? npmAuditLevel ?? fromPkg.auditLevel ?? 'none',
    advisoryFiles: [...(fromCli.advisoryFiles ?? []), ...(fromPkg.advisoryFiles ?? [])]
      .map(f => path.resolve(prefix, f)),
    registryAdvisories: pick('registryAdvisories', true),
    minReleaseAgeDays: fromCli.minReleaseAgeDays ?? fromPkg.minReleaseAgeDays ?? npmMinAge ?? 1,
    minReleaseAgeExclude: [...new Set([
      ...(fromCli.minReleaseAgeExclude ?? []),
      ...(fromPkg.minReleaseAgeExclude ?? []),
      ...((config.get('min-release-age-exclude') as string[] | undefined) ?? []),
    ])],
    strictReleaseAge: pick('strictReleaseAge', false),
    scan: pick('scan', true),
    importMethod: pick('importMethod', 'auto'),
  }

  // checked now, before anything is fetched: a bad file is an error, never a fallback to another root
  // (the Sigstore libraries load only then: they cost every other run start-up time)
  if (policy.trustedRoot) (await import('../evidence/trusted-root.js')).loadTrustedRootFile(policy.trustedRoot)

  const record: RecordOptions = {
    enabled: input.flags.record?.enabled ?? fromPkg.record?.enabled ?? true,
    paths: (input.flags.record?.paths ?? []).map(p => path.resolve(process.cwd(), p)),
    specVersion: input.flags.record?.specVersion ?? fromPkg.record?.specVersion ?? '1.6',
  }

  const scopedRegistries: Record<string, string> = {}
  for (const [key, val] of Object.entries(flat)) {
    const m = /^(@[^:]+):registry$/i.exec(key)
    if (m && typeof val === 'string') scopedRegistries[m[1]] = withSlash(val)
  }

  const omit = (flat.omit as string[] | undefined) ?? []
  const loglevel = String(config.get('loglevel'))
  const isTTY = input.isTTY ?? Boolean(process.stderr.isTTY)
  const json = Boolean(config.get('json'))
  const options: Options = {
    command: input.flags.command,
    prefix,
    cache: String(config.get('cache')),
    registry: withSlash(String(flat.registry ?? DEFAULT_REGISTRY)),
    scopedRegistries,
    replaceRegistryHost: String(config.get('replace-registry-host')),
    offline: Boolean(flat.offline),
    preferOffline: Boolean(flat.preferOffline),
    omit: omit.filter((o): o is 'dev' | 'optional' | 'peer' => o === 'dev' || o === 'optional' || o === 'peer'),
    workspaces: (config.get('workspace') as string[] | undefined) ?? [],
    allWorkspaces: config.get('workspaces') === true,
    includeWorkspaceRoot: Boolean(config.get('include-workspace-root')),
    json,
    loglevel,
    progress: isTTY && !env.CI && !json && loglevel !== 'silent',
    timing: Boolean(input.flags.timing),
    policy,
    record,
    npmFlat: { ...flat, strictSSL: flat.strictSSL, _transport: transportFacts(config, env) },
  }
  return freeze(options)
}

/** The raw settings the transport policy judges, kept for lib/policy/transport.ts. */
function transportFacts (config: any, env: NodeJS.ProcessEnv) {
  return {
    strictSSL: config.get('strict-ssl'),
    nodeTlsRejectUnauthorized: env.NODE_TLS_REJECT_UNAUTHORIZED,
  }
}

function readPackageJsonForConfig (prefix: string): Record<string, any> | undefined {
  const file = path.join(prefix, 'package.json')
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (err) {
    throw new SafeInstallError('ESIBADJSON', `${file} is not valid JSON: ${(err as Error).message}`, {
      path: file,
      fix: 'fix the JSON syntax of package.json',
    })
  }
}
