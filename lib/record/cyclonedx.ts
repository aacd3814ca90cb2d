// The install record (SCVS 4.11, 4.19): a CycloneDX SBOM of exactly what was
// installed, with the evidence safe-install gathered for each package. Built
// and serialized with @cyclonedx/cyclonedx-library; nothing here writes JSON
// by hand. Pure: no I/O besides loading the two helper modules below.
import { createRequire } from 'node:module'
import { DEFAULT_REGISTRY, withSlash } from '../config/load.js'
import { randomUUID } from 'node:crypto'
import { basename } from 'node:path'

// the parts, not the package root: the root also loads the JSON-schema
// validators (ajv, about 70 modules) that a record being written never needs
import * as Enums from '@cyclonedx/cyclonedx-library/Enums'
import * as Models from '@cyclonedx/cyclonedx-library/Models'
import * as Serialize from '@cyclonedx/cyclonedx-library/Serialize'
import * as Spec from '@cyclonedx/cyclonedx-library/Spec'
import { Factories as LicenseFactories } from '@cyclonedx/cyclonedx-library/Contrib/License'
import ssri from 'ssri'

import type { Options, Policy } from '../options.js'
import type { AdvisoryFinding, PackageEvidence, Plan, PlanEntry, RunNote } from '../types.js'

const require = createRequire(import.meta.url)

// ---- property names -------------------------------------------------------

/** Our own property namespace (CycloneDX properties `safe-install:*`). */
export const NS = 'safe-install'

/** CycloneDX npm taxonomy (https://github.com/CycloneDX/cyclonedx-property-taxonomy/blob/main/cdx/npm.md). */
export const CDX_NPM = {
  path: 'cdx:npm:package:path',
  development: 'cdx:npm:package:development',
  optional: 'cdx:npm:package:optional',
  bundled: 'cdx:npm:package:bundled',
} as const

/** Per-component property names in the `safe-install:` namespace. */
export const PROP = {
  installName: `${NS}:install-name`,
  source: `${NS}:source`,
  resolved: `${NS}:resolved`,
  workspace: `${NS}:workspace`,
  peer: `${NS}:peer`,
  devOptional: `${NS}:dev-optional`,
  integrity: `${NS}:integrity`,
  integritySource: `${NS}:integrity-source`,
  integritySourceReason: `${NS}:integrity-source:reason`,
  signature: `${NS}:signature`,
  signatureKeyid: `${NS}:signature:keyid`,
  signatureKeySource: `${NS}:signature:key-source`,
  signatureReason: `${NS}:signature:reason`,
  provenance: `${NS}:provenance`,
  provenanceRepository: `${NS}:provenance:source-repository`,
  provenanceCommit: `${NS}:provenance:commit`,
  provenanceRef: `${NS}:provenance:ref`,
  provenanceWorkflow: `${NS}:provenance:workflow`,
  provenanceBuilder: `${NS}:provenance:builder`,
  provenanceBuildTrigger: `${NS}:provenance:build-trigger`,
  provenanceRekorLogIndex: `${NS}:provenance:rekor-log-index`,
  provenancePublishAttestation: `${NS}:provenance:publish-attestation`,
  provenanceTrustedRootSource: `${NS}:provenance:trusted-root-source`,
  provenanceReason: `${NS}:provenance:reason`,
  identity: `${NS}:identity`,
  identityDeclared: `${NS}:identity:declared`,
  identityAttested: `${NS}:identity:attested`,
  identityReason: `${NS}:identity:reason`,
  trust: `${NS}:trust`,
  trustDowngrade: `${NS}:trust:downgrade`,
  trustPrevious: `${NS}:trust:previous`,
  trustReason: `${NS}:trust:reason`,
  hasInstallScript: `${NS}:has-install-script`,
  scripts: `${NS}:scripts`,
  scriptsSkipped: `${NS}:scripts:skipped`,
  scriptsReason: `${NS}:scripts:reason`,
  scanCapabilities: `${NS}:scan:capabilities`,
  scanFinding: `${NS}:scan:finding`,
  scanReason: `${NS}:scan:reason`,
  advisories: `${NS}:advisories`,
  advisoriesReason: `${NS}:advisories:reason`,
  releaseAge: `${NS}:release-age`,
  releaseAgePublished: `${NS}:release-age:published`,
  releaseAgeDays: `${NS}:release-age:age-days`,
  releaseAgeReason: `${NS}:release-age:reason`,
  /** on vulnerabilities */
  malware: `${NS}:malware`,
  advisoryRange: `${NS}:advisory:range`,
} as const

/** Run-wide property names on `metadata.properties`. */
export const META = {
  command: `${NS}:command`,
  node: `${NS}:node`,
  /** `safe-install:library:<package name>` = version */
  library: `${NS}:library`,
  /** `safe-install:policy:<kebab-case Policy field>` */
  policy: `${NS}:policy`,
  lockfile: `${NS}:lockfile`,
  omit: `${NS}:omit`,
  /** the default registry; scoped ones are `safe-install:registry:@scope` */
  registry: `${NS}:registry`,
  /** `safe-install:key-source:<what>` = where keys / the trusted root came from */
  keySource: `${NS}:key-source`,
  /** `safe-install:note:<check>` = `<level>: <message>` */
  note: `${NS}:note`,
} as const

/** The value a check writes when it did not look; always paired with a `:reason`. */
export const NOT_CHECKED = 'not-checked'
const NONE = 'none'

// ---- input ----------------------------------------------------------------

/** Where a package's bytes came from, as the fetch stage knows it (VerifiedPackage). */
export interface RecordSource {
  /** tarball URL the bytes came from */
  readonly tarballUrl?: string
  /** registry base URL serving the package */
  readonly registry?: string
}

/** What the record reads of the run's options (plain data: the record may be built on another thread). */
export type RecordOptions = Pick<Options, 'policy' | 'omit' | 'registry' | 'scopedRegistries'>

export interface RecordInput {
  readonly plan: Plan
  /** evidence by lockfile location */
  readonly evidence: ReadonlyMap<string, PackageEvidence>
  readonly options: RecordOptions
  /** the command line as run, e.g. `safe-install ci --omit=dev` */
  readonly command: string
  readonly tool: { readonly name: string, readonly version: string }
  /** versions of the npm libraries in use (`@npmcli/arborist`, `pacote`...) */
  readonly libraries: Readonly<Record<string, string>>
  readonly notes: readonly RunNote[]
  readonly timestamp?: Date
  /** where keys / the trusted root came from, e.g. `{ PUBLIC_REGISTRY: 'tuf', 'trusted-root': 'embedded' }` */
  readonly keySources?: Readonly<Record<string, string>>
  /**
   * Optional, by location: the tarball URL and registry actually used (from
   * VerifiedPackage). Without it the lockfile `resolved` and the configured
   * registry for the package's scope are used.
   */
  readonly sources?: ReadonlyMap<string, RecordSource>
}

export type RecordSpecVersion = '1.6' | '1.7'

// ---- helpers --------------------------------------------------------------

/** npm's built-in default registry (trailing slash): the one the config loader reads from npm's definitions. */
export function npmDefaultRegistry (): string {
  return DEFAULT_REGISTRY
}

function sameRegistry (a: string, b: string): boolean {
  try {
    const ua = new URL(withSlash(a))
    const ub = new URL(withSlash(b))
    return ua.protocol === ub.protocol && ua.host === ub.host && ua.pathname === ub.pathname
  } catch {
    return withSlash(a) === withSlash(b)
  }
}

/** `@scope/name` -> `{ group: '@scope', name: 'name' }` */
export function splitName (full: string): { group?: string, name: string } {
  if (full.startsWith('@')) {
    const i = full.indexOf('/')
    if (i > 1 && i < full.length - 1) return { group: full.slice(0, i), name: full.slice(i + 1) }
  }
  return { name: full }
}

function encodeQualifier (value: string): string {
  return encodeURIComponent(value).replace(/%3A/gi, ':')
}

/** A package URL for an npm package (pkg:npm/%40scope/name@1.0.0?qualifiers). */
export function npmPurl (fullName: string, version: string | undefined, qualifiers: Readonly<Record<string, string | undefined>> = {}): string {
  const { group, name } = splitName(fullName)
  let purl = 'pkg:npm/'
  if (group !== undefined) purl += `${encodeURIComponent(group)}/`
  purl += encodeURIComponent(name)
  if (version) purl += `@${encodeURIComponent(version)}`
  const q = Object.entries(qualifiers)
    .filter((kv): kv is [string, string] => kv[1] !== undefined && kv[1] !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${encodeQualifier(v)}`)
  if (q.length > 0) purl += `?${q.join('&')}`
  return purl
}

function scopeOf (name: string): string | undefined {
  return splitName(name).group
}

/** The registry an entry is fetched from: the fetch stage's word, else the configured one for its scope. */
function registryFor (entry: PlanEntry, options: RecordOptions, source?: RecordSource): string {
  if (source?.registry) return withSlash(source.registry)
  const scope = scopeOf(entry.name)
  const scoped = scope === undefined ? undefined : options.scopedRegistries[scope]
  return withSlash(scoped ?? options.registry)
}

function isHttpUrl (s: string | undefined): s is string {
  return typeof s === 'string' && /^https?:\/\//i.test(s)
}

function purlFor (entry: PlanEntry, options: RecordOptions, source?: RecordSource): string {
  const qualifiers: Record<string, string | undefined> = {}
  switch (entry.source) {
    case 'registry': {
      const registry = registryFor(entry, options, source)
      if (!sameRegistry(registry, npmDefaultRegistry())) qualifiers.repository_url = registry.replace(/\/+$/, '')
      break
    }
    case 'git':
      qualifiers.vcs_url = entry.resolved
      break
    case 'remote':
      qualifiers.download_url = source?.tarballUrl ?? entry.resolved
      break
    default:
      break
  }
  return npmPurl(entry.name, entry.version, qualifiers)
}

/** Hex digests from an SRI string: the sha512 one(s), else sha1 (old lockfiles). */
export function integrityHashes (integrity: string | undefined): Array<[Enums.HashAlgorithm, string]> {
  if (!integrity) return []
  let parsed: ssri.Integrity
  try {
    parsed = ssri.parse(integrity) as ssri.Integrity
  } catch {
    return []
  }
  const out: Array<[Enums.HashAlgorithm, string]> = []
  const pick = (algo: string, alg: Enums.HashAlgorithm): void => {
    const hashes = (parsed as unknown as Record<string, ssri.Hash[] | undefined>)[algo]
    const first = hashes?.[0]
    if (first) out.push([alg, Buffer.from(first.digest, 'base64').toString('hex')])
  }
  pick('sha512', Enums.HashAlgorithm['SHA-512'])
  if (out.length === 0) pick('sha1', Enums.HashAlgorithm['SHA-1'])
  return out
}

type SpdxValidate = (expression: string) => void
let licenseFactoryCache: LicenseFactories.LicenseFactory | undefined
function licenseFactory (): LicenseFactories.LicenseFactory {
  if (licenseFactoryCache === undefined) {
    let validate: SpdxValidate
    try {
      // optional peer of @cyclonedx/cyclonedx-library, present through npm's own deps
      const parse = require('spdx-expression-parse') as (s: string) => unknown
      validate = (s) => { parse(s) }
    } catch {
      // without a parser nothing is an expression: ids stay ids, the rest become named licenses
      validate = () => { throw new Error('spdx-expression-parse is not available') }
    }
    licenseFactoryCache = new LicenseFactories.LicenseFactory(validate)
  }
  return licenseFactoryCache
}

function kebab (s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

function list (values: readonly string[] | undefined): string {
  return values && values.length > 0 ? [...values].join(',') : NONE
}

/** Every Policy field, so a new field cannot be forgotten (compile error). */
const POLICY_FIELDS: Record<keyof Policy, true> = {
  allowGit: true,
  allowRemote: true,
  allowFile: true,
  allowDirectory: true,
  allowMissingIntegrity: true,
  signatures: true,
  provenance: true,
  provenanceRequireFor: true,
  identity: true,
  identityRequireFor: true,
  trust: true,
  trustExclude: true,
  trustIgnoreAfterDays: true,
  signaturesRegistry: true,
  trustedRoot: true,
  auditLevel: true,
  advisoryFiles: true,
  registryAdvisories: true,
  minReleaseAgeDays: true,
  minReleaseAgeExclude: true,
  strictReleaseAge: true,
  scan: true,
  importMethod: true,
}

function policyValue (v: unknown): string {
  if (v === undefined || v === null) return 'unset'
  if (Array.isArray(v)) return list(v as string[])
  return String(v)
}

const SEVERITY: Record<AdvisoryFinding['severity'], Enums.Vulnerability.Severity> = {
  info: Enums.Vulnerability.Severity.Info,
  low: Enums.Vulnerability.Severity.Low,
  moderate: Enums.Vulnerability.Severity.Medium,
  high: Enums.Vulnerability.Severity.High,
  critical: Enums.Vulnerability.Severity.Critical,
}

const ADVISORY_SOURCE: Record<AdvisoryFinding['source'], string> = {
  registry: 'npm registry',
  osv: 'OSV',
}

const SEVERITY_ORDER: ReadonlyArray<AdvisoryFinding['severity']> = ['info', 'low', 'moderate', 'high', 'critical']

/** The same advisory seen at two locations: keep every detail either one has. */
function mergeFindings (a: AdvisoryFinding, b: AdvisoryFinding): AdvisoryFinding {
  return {
    ...a,
    title: a.title || b.title,
    url: a.url ?? b.url,
    range: a.range ?? b.range,
    malware: a.malware || b.malware,
    severity: SEVERITY_ORDER.indexOf(b.severity) > SEVERITY_ORDER.indexOf(a.severity) ? b.severity : a.severity,
  }
}

// ---- evidence -> properties ----------------------------------------------

class Props {
  readonly repo = new Models.PropertyRepository()
  add (name: string, value: string | number | boolean | undefined): void {
    if (value === undefined) return
    this.repo.add(new Models.Property(name, String(value)))
  }
}

type CheckName = 'integrity' | 'signature' | 'provenance' | 'identity' | 'trust' | 'scripts' | 'scan' | 'advisories' | 'releaseAge'

/** Checks that look at the package as published and fetched on its own. */
const FETCH_CHECKS: ReadonlySet<CheckName> = new Set(['integrity', 'signature', 'provenance', 'identity', 'trust', 'releaseAge'])
/** Checks that only apply to registry packages. */
const REGISTRY_CHECKS: ReadonlySet<CheckName> = new Set(['signature', 'provenance', 'identity', 'trust', 'releaseAge'])

function disabledByPolicy (check: CheckName, policy: Policy): string | undefined {
  switch (check) {
    case 'signature':
      return policy.signatures === 'off' ? 'disabled by policy (signatures=off)' : undefined
    case 'provenance':
      return policy.provenance === 'off' ? 'disabled by policy (provenance=off)' : undefined
    case 'advisories':
      return policy.auditLevel === 'none' && !policy.registryAdvisories && policy.advisoryFiles.length === 0
        ? 'disabled by policy (audit-level=none, no advisory sources)'
        : undefined
    case 'scan':
      return policy.scan ? undefined : 'disabled by policy (scan=false)'
    case 'releaseAge':
      return policy.minReleaseAgeDays === 0 ? 'disabled by policy (min-release-age-days=0)' : undefined
    default:
      return undefined
  }
}

const CHECK_LABEL: Record<CheckName, string> = {
  integrity: 'integrity',
  signature: 'signature',
  provenance: 'provenance',
  identity: 'identity',
  trust: 'trust',
  scripts: 'scripts',
  scan: 'capability scan',
  advisories: 'advisory',
  releaseAge: 'release-age',
}

/** Why a check has no result for this entry (never silence). */
function whyNot (check: CheckName, entry: PlanEntry, ev: PackageEvidence | undefined, policy: Policy): string {
  if (entry.source === 'link' || entry.source === 'workspace' || entry.source === 'directory') {
    return `local package (source=${entry.source}): nothing was fetched`
  }
  if (entry.bundled && FETCH_CHECKS.has(check)) {
    return 'bundled inside its parent\'s tarball: covered by the parent\'s integrity, not fetched on its own'
  }
  const disabled = disabledByPolicy(check, policy)
  if (disabled !== undefined) return disabled
  if (entry.source !== 'registry' && REGISTRY_CHECKS.has(check)) return `not a registry package (source=${entry.source})`
  if (ev === undefined) return 'no evidence was recorded for this package'
  if (check === 'identity' && ev.provenance?.status !== 'verified') {
    return 'no verified provenance to compare with the declared repository'
  }
  return `the ${CHECK_LABEL[check]} check reported no result`
}

function evidenceProperties (p: Props, entry: PlanEntry, ev: PackageEvidence | undefined, policy: Policy): void {
  p.add(PROP.integrity, entry.integrity ?? 'missing')
  if (ev) {
    p.add(PROP.integritySource, ev.integritySource)
  } else {
    p.add(PROP.integritySource, NOT_CHECKED)
    p.add(PROP.integritySourceReason, whyNot('integrity', entry, ev, policy))
  }

  const sig = ev?.signature
  if (sig) {
    p.add(PROP.signature, sig.status)
    p.add(PROP.signatureKeyid, sig.keyid)
    p.add(PROP.signatureKeySource, sig.keySource)
    p.add(PROP.signatureReason, sig.reason ?? (sig.status === NOT_CHECKED ? whyNot('signature', entry, ev, policy) : undefined))
  } else {
    p.add(PROP.signature, NOT_CHECKED)
    p.add(PROP.signatureReason, whyNot('signature', entry, ev, policy))
  }

  const prov = ev?.provenance
  if (prov) {
    p.add(PROP.provenance, prov.status)
    p.add(PROP.provenanceRepository, prov.sourceRepository)
    p.add(PROP.provenanceCommit, prov.commit)
    p.add(PROP.provenanceRef, prov.ref)
    p.add(PROP.provenanceWorkflow, prov.workflow)
    p.add(PROP.provenanceBuilder, prov.builder)
    p.add(PROP.provenanceBuildTrigger, prov.buildTrigger)
    p.add(PROP.provenanceRekorLogIndex, prov.rekorLogIndex)
    p.add(PROP.provenancePublishAttestation, prov.publishAttestation)
    p.add(PROP.provenanceTrustedRootSource, prov.trustedRootSource)
    p.add(PROP.provenanceReason, prov.reason ?? (prov.status === NOT_CHECKED ? whyNot('provenance', entry, ev, policy) : undefined))
  } else {
    p.add(PROP.provenance, NOT_CHECKED)
    p.add(PROP.provenanceReason, whyNot('provenance', entry, ev, policy))
  }

  const id = ev?.identity
  if (id) {
    p.add(PROP.identity, id.status)
    p.add(PROP.identityDeclared, id.declared)
    p.add(PROP.identityAttested, id.attested)
    if (id.status === NOT_CHECKED) p.add(PROP.identityReason, whyNot('identity', entry, ev, policy))
  } else {
    p.add(PROP.identity, NOT_CHECKED)
    p.add(PROP.identityReason, whyNot('identity', entry, ev, policy))
  }

  const trust = ev?.trust
  if (trust) {
    p.add(PROP.trust, trust.level)
    p.add(PROP.trustDowngrade, trust.downgrade)
    if (trust.previous) p.add(PROP.trustPrevious, `${trust.previous.version} (level ${trust.previous.level})`)
    p.add(PROP.trustReason, trust.reason)
  } else {
    p.add(PROP.trust, NOT_CHECKED)
    p.add(PROP.trustReason, whyNot('trust', entry, ev, policy))
  }

  p.add(PROP.hasInstallScript, entry.hasInstallScript)
  if (ev) {
    p.add(PROP.scripts, list(ev.scripts))
    // safe-install never runs package code: every declared script is skipped
    p.add(PROP.scriptsSkipped, list(ev.scripts))
  } else {
    p.add(PROP.scripts, NOT_CHECKED)
    p.add(PROP.scriptsSkipped, NOT_CHECKED)
    p.add(PROP.scriptsReason, whyNot('scripts', entry, ev, policy))
  }

  const scan = ev?.scan
  if (scan) {
    p.add(PROP.scanCapabilities, list([...new Set(scan.capabilities)].sort()))
    for (const f of scan.findings) {
      const where = f.line === undefined ? f.file : `${f.file}:${f.line}`
      p.add(PROP.scanFinding, `${f.capability} ${where}${f.detail ? ` ${f.detail}` : ''}`)
    }
  } else {
    p.add(PROP.scanCapabilities, NOT_CHECKED)
    p.add(PROP.scanReason, whyNot('scan', entry, ev, policy))
  }

  const adv = ev?.advisories
  if (adv) {
    p.add(PROP.advisories, list([...new Set(adv.map((a) => a.id))].sort()))
  } else {
    p.add(PROP.advisories, NOT_CHECKED)
    p.add(PROP.advisoriesReason, whyNot('advisories', entry, ev, policy))
  }

  const age = ev?.releaseAge
  if (age) {
    p.add(PROP.releaseAge, age.status)
    p.add(PROP.releaseAgePublished, age.published)
    p.add(PROP.releaseAgeDays, age.ageDays)
    if (age.status === NOT_CHECKED) p.add(PROP.releaseAgeReason, whyNot('releaseAge', entry, ev, policy))
  } else {
    p.add(PROP.releaseAge, NOT_CHECKED)
    p.add(PROP.releaseAgeReason, whyNot('releaseAge', entry, ev, policy))
  }
}

// ---- the record -----------------------------------------------------------

function rootComponent (plan: Plan): Models.Component {
  const fullName = plan.rootName || basename(plan.root) || 'project'
  const { group, name } = splitName(fullName)
  const purl = npmPurl(fullName, plan.rootVersion || undefined)
  const props = new Props()
  props.add(CDX_NPM.path, '')
  return new Models.Component(Enums.ComponentType.Application, name, {
    group,
    version: plan.rootVersion || undefined,
    // lockfile keys never start with `pkg:`, so this cannot collide with an entry's ref
    bomRef: purl,
    purl,
    properties: props.repo,
  })
}

function entryComponent (entry: PlanEntry, input: RecordInput): Models.Component {
  const { options } = input
  const source = input.sources?.get(entry.location)
  const { group, name } = splitName(entry.name)

  const hashes = new Models.HashDictionary()
  for (const [alg, hex] of integrityHashes(entry.integrity)) hashes.set(alg, hex)

  const licenses = new Models.LicenseRepository()
  if (entry.license) licenses.add(licenseFactory().makeFromString(entry.license))

  const refs = new Models.ExternalReferenceRepository()
  const tarball = source?.tarballUrl ?? (isHttpUrl(entry.resolved) ? entry.resolved : undefined)
  if (tarball && (entry.source === 'registry' || entry.source === 'remote')) {
    refs.add(new Models.ExternalReference(tarball, Enums.ExternalReferenceType.Distribution, {
      comment: 'tarball the package was installed from',
    }))
  } else if (entry.source === 'git' && entry.resolved) {
    refs.add(new Models.ExternalReference(entry.resolved, Enums.ExternalReferenceType.VCS, {
      comment: 'git source the package was installed from',
    }))
  }

  const p = new Props()
  p.add(CDX_NPM.path, entry.location)
  p.add(CDX_NPM.development, entry.dev)
  p.add(CDX_NPM.optional, entry.optional)
  p.add(CDX_NPM.bundled, entry.bundled)
  p.add(PROP.installName, entry.installName)
  p.add(PROP.source, entry.source)
  p.add(PROP.resolved, entry.resolved)
  if (entry.peer) p.add(PROP.peer, true)
  if (entry.devOptional) p.add(PROP.devOptional, true)
  evidenceProperties(p, entry, input.evidence.get(entry.location), options.policy)

  return new Models.Component(Enums.ComponentType.Library, name, {
    group,
    version: entry.version,
    bomRef: entry.location,
    purl: purlFor(entry, options, source),
    hashes,
    licenses,
    externalReferences: refs,
    scope: entry.dev || entry.optional || entry.devOptional
      ? Enums.ComponentScope.Optional
      : Enums.ComponentScope.Required,
    properties: p.repo,
  })
}

function metadataProperties (input: RecordInput): Models.PropertyRepository {
  const { options, plan } = input
  const p = new Props()
  p.add(META.command, input.command)
  p.add(META.node, process.version)
  p.add(META.lockfile, plan.lockfile)
  p.add(META.omit, list(options.omit))
  for (const [name, version] of Object.entries(input.libraries)) p.add(`${META.library}:${name}`, version)
  const policy = options.policy as unknown as Record<string, unknown>
  for (const field of Object.keys(POLICY_FIELDS)) p.add(`${META.policy}:${kebab(field)}`, policyValue(policy[field]))
  p.add(META.registry, options.registry)
  for (const [scope, url] of Object.entries(options.scopedRegistries)) p.add(`${META.registry}:${scope}`, url)
  for (const [what, from] of Object.entries(input.keySources ?? {})) p.add(`${META.keySource}:${what}`, from)
  for (const note of input.notes) p.add(`${META.note}:${note.check}`, `${note.level}: ${note.message}`)
  return p.repo
}

/** Build the install record as a CycloneDX model; serialize it with {@link serializeRecord}. */
export function buildRecord (input: RecordInput): Models.Bom {
  const { plan } = input

  const tools = new Models.Tools()
  tools.components.add(new Models.Component(Enums.ComponentType.Application, input.tool.name, {
    version: input.tool.version,
  }))

  const root = rootComponent(plan)
  const bom = new Models.Bom({
    serialNumber: `urn:uuid:${randomUUID()}`,
    metadata: new Models.Metadata({
      timestamp: input.timestamp ?? new Date(),
      tools,
      component: root,
      properties: metadataProperties(input),
    }),
  })

  // one component per entry
  const byLocation = new Map<string, Models.Component>()
  for (const entry of plan.entries) {
    if (byLocation.has(entry.location)) continue // a plan never repeats a location; be safe
    const c = entryComponent(entry, input)
    byLocation.set(entry.location, c)
    bom.components.add(c)
  }

  // workspaces: a component each, unless the plan already has an entry there
  const workspaceComponents: Models.Component[] = []
  for (const ws of plan.workspaces) {
    let c = byLocation.get(ws.location)
    if (c === undefined) {
      const { group, name } = splitName(ws.name)
      const p = new Props()
      p.add(CDX_NPM.path, ws.location)
      p.add(PROP.workspace, true)
      p.add(PROP.source, 'workspace')
      c = new Models.Component(Enums.ComponentType.Library, name, {
        group,
        version: ws.version || undefined,
        bomRef: ws.location,
        purl: npmPurl(ws.name, ws.version || undefined),
        properties: p.repo,
      })
      byLocation.set(ws.location, c)
      bom.components.add(c)
    } else {
      c.properties.add(new Models.Property(PROP.workspace, 'true'))
    }
    workspaceComponents.push(c)
  }

  // dependency graph
  const link = (from: Models.Component, to: string): void => {
    const target = byLocation.get(to)
    if (target !== undefined && target !== from) from.dependencies.add(target.bomRef)
  }
  for (const loc of plan.rootDependencies) link(root, loc)
  for (const c of workspaceComponents) root.dependencies.add(c.bomRef)
  for (const entry of plan.entries) {
    const c = byLocation.get(entry.location)!
    for (const dep of entry.dependencies) link(c, dep)
    // a link points at its target folder (e.g. a workspace)
    if (entry.source === 'link' && entry.resolved) link(c, entry.resolved)
  }
  for (const ws of plan.workspaces) {
    const c = byLocation.get(ws.location)!
    for (const dep of ws.dependencies) link(c, dep)
  }

  // vulnerabilities: one per advisory, affecting every location it was found at
  const vulns = new Map<string, { finding: AdvisoryFinding, affects: Array<{ ref: Models.BomRef, version: string }> }>()
  for (const entry of plan.entries) {
    const c = byLocation.get(entry.location)!
    for (const finding of input.evidence.get(entry.location)?.advisories ?? []) {
      const key = `${finding.source}\u0000${finding.id}`
      let v = vulns.get(key)
      if (v === undefined) {
        v = { finding, affects: [] }
        vulns.set(key, v)
      } else {
        v.finding = mergeFindings(v.finding, finding)
      }
      if (!v.affects.some((a) => a.ref === c.bomRef)) v.affects.push({ ref: c.bomRef, version: entry.version })
    }
  }
  for (const { finding, affects } of vulns.values()) {
    const source = new Models.Vulnerability.Source({ name: ADVISORY_SOURCE[finding.source], url: finding.url })
    const ratings = new Models.Vulnerability.RatingRepository()
    ratings.add(new Models.Vulnerability.Rating({ source, severity: SEVERITY[finding.severity] }))
    const affectRepo = new Models.Vulnerability.AffectRepository()
    for (const a of affects) {
      const versions = new Models.Vulnerability.AffectedVersionRepository()
      versions.add(new Models.Vulnerability.AffectedSingleVersion(a.version, {
        status: Enums.Vulnerability.AffectStatus.Affected,
      }))
      affectRepo.add(new Models.Vulnerability.Affect(a.ref, { versions }))
    }
    const p = new Props()
    p.add(PROP.malware, finding.malware)
    p.add(PROP.advisoryRange, finding.range)
    bom.vulnerabilities.add(new Models.Vulnerability.Vulnerability({
      // deterministic, and unlike any lockfile key
      bomRef: `${finding.source}:${finding.id}`,
      id: finding.id,
      source,
      ratings,
      description: finding.title,
      affects: affectRepo,
      properties: p.repo,
    }))
  }

  return bom
}

const SPEC: Record<RecordSpecVersion, Spec.Version> = {
  '1.6': Spec.Version.v1dot6,
  '1.7': Spec.Version.v1dot7,
}

/** Serialize a record to CycloneDX JSON (sorted lists, 2-space indent, trailing newline). */
export function serializeRecord (bom: Models.Bom, specVersion: RecordSpecVersion = '1.6'): string {
  const spec = Spec.SpecVersionDict[SPEC[specVersion]]
  if (spec === undefined) throw new Error(`CycloneDX ${specVersion} is not supported by @cyclonedx/cyclonedx-library`)
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(spec))
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`
}
