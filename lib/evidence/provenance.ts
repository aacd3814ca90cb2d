// Provenance (SCVS 4.10): the registry's attestations for a version — a
// SLSA provenance statement signed through Sigstore (Fulcio certificate +
// Rekor entry) and npm's publish attestation signed by a registry key —
// verified offline against the Sigstore trusted root and the registry keys,
// and tied to the LOCKFILE's integrity through the in-toto subject.
import { bundleFromJSON, type Bundle } from '@sigstore/bundle'
import type { TrustedRoot } from '@sigstore/protobuf-specs'
import { crypto as sigstoreCrypto } from '@sigstore/core'
import { Verifier, type Signer } from '@sigstore/verify'
import type { KeyObject } from 'node:crypto'
import type { ProvenanceOutcome } from '../types.js'
import { keysFor, type RegistryKey } from './keys.js'
import { leafOf, PreparedTrust, preparedEntity } from './provenance-trust.js'
import { normalizeRepository } from './repository.js'
import { errorMessage, npmPurl, sha512Hex } from './util.js'

export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2'
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1'
export const NPM_PUBLISH_V01 = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1'
const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json'
const INTOTO_STATEMENT_PREFIX = 'https://in-toto.io/Statement/'
const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com'
const FULCIO_OID = '1.3.6.1.4.1.57264.1.'

const isProvenanceType = (t: unknown): boolean => t === SLSA_PROVENANCE_V02 || t === SLSA_PROVENANCE_V1

/** What a provenance statement (or its signing certificate) says about the build. */
export interface ProvenanceFields {
  sourceRepository?: string
  commit?: string
  ref?: string
  workflow?: string
  builder?: string
  buildTrigger?: string
}

const str = (v: unknown): string | undefined => typeof v === 'string' && v ? v : undefined

/** `git+https://host/o/r@refs/tags/v1` -> { repository: 'https://host/o/r', ref: 'refs/tags/v1' } */
export function parseGitUri (uri: unknown): { repository?: string, ref?: string } {
  const s = str(uri)?.replace(/^git\+/, '')
  if (!s) return {}
  const scheme = s.indexOf('://')
  const pathStart = s.indexOf('/', scheme >= 0 ? scheme + 3 : 0)
  const at = pathStart >= 0 ? s.indexOf('@', pathStart) : -1
  return at >= 0 ? { repository: s.slice(0, at), ref: s.slice(at + 1) || undefined } : { repository: s }
}

/** Extracts the build facts from a SLSA v0.2 or v1 predicate (as npm, GitHub and GitLab write them). Pure. */
export function extractProvenanceFields (predicateType: string, predicate: any): ProvenanceFields {
  if (!predicate || typeof predicate !== 'object') return {}
  if (predicateType === SLSA_PROVENANCE_V1) {
    const def = predicate.buildDefinition ?? {}
    const ext = def.externalParameters ?? {}
    const workflow = ext.workflow ?? {}
    const dep = Array.isArray(def.resolvedDependencies) ? def.resolvedDependencies[0] : undefined
    const fromDep = parseGitUri(dep?.uri)
    return {
      sourceRepository: str(workflow.repository) ?? fromDep.repository ?? str(ext.CI_PROJECT_URL),
      commit: str(dep?.digest?.gitCommit) ?? str(dep?.digest?.sha1) ?? str(ext.CI_COMMIT_SHA),
      ref: str(workflow.ref) ?? fromDep.ref ?? str(ext.CI_COMMIT_REF_NAME),
      workflow: str(workflow.path) ?? str(ext.CI_CONFIG_PATH),
      builder: str(predicate.runDetails?.builder?.id),
      buildTrigger: str(def.internalParameters?.github?.event_name) ?? str(ext.CI_PIPELINE_SOURCE),
    }
  }
  // SLSA v0.2
  const inv = predicate.invocation ?? {}
  const cfg = inv.configSource ?? {}
  const env = inv.environment ?? {}
  const params = inv.parameters ?? {}
  const fromCfg = parseGitUri(cfg.uri)
  let workflow = str(env.GITHUB_WORKFLOW_REF)
  if (workflow) {
    // owner/repo/.github/workflows/x.yml@ref -> .github/workflows/x.yml
    const repo = str(env.GITHUB_REPOSITORY)
    if (repo && workflow.startsWith(`${repo}/`)) workflow = workflow.slice(repo.length + 1)
    workflow = workflow.replace(/@[^@]*$/, '')
  }
  return {
    sourceRepository: fromCfg.repository ?? str(params.CI_PROJECT_URL),
    commit: str(cfg.digest?.sha1) ?? str(cfg.digest?.gitCommit) ?? str(env.GITHUB_SHA) ?? str(params.CI_COMMIT_SHA),
    ref: fromCfg.ref ?? str(env.GITHUB_REF) ?? str(params.CI_COMMIT_REF_NAME),
    workflow: workflow ?? str(params.CI_CONFIG_PATH) ?? str(cfg.entryPoint),
    builder: str(predicate.builder?.id),
    buildTrigger: str(env.GITHUB_EVENT_NAME) ?? str(params.CI_PIPELINE_SOURCE),
  }
}

/** DER UTF8String/IA5String/PrintableString content, or the raw bytes as text (older Fulcio extensions). */
function derString (value: Buffer | undefined): string | undefined {
  if (!value || !value.length) return undefined
  const tag = value[0]
  if ((tag === 0x0c || tag === 0x16 || tag === 0x13) && value.length >= 2) {
    let len = value[1]
    let off = 2
    if (len & 0x80) {
      const n = len & 0x7f
      if (n < 1 || n > 3 || value.length < 2 + n) return value.toString('utf8')
      len = 0
      for (let i = 0; i < n; i++) len = (len << 8) | value[2 + i]
      off = 2 + n
    }
    if (off + len === value.length) return value.subarray(off).toString('utf8')
  }
  return value.toString('utf8')
}

/** Facts about the build that Fulcio wrote into the signing certificate (from the CI's OIDC token). */
export function certificateClaims (signer: Pick<Signer, 'identity'>): ProvenanceFields & { issuer?: string, signerUri?: string } {
  const ext = new Map<string, Buffer>()
  for (const pair of signer.identity?.oids ?? []) {
    const id = pair.oid?.id?.join('.')
    if (id) ext.set(id, Buffer.from(pair.value))
  }
  const get = (n: number) => derString(ext.get(`${FULCIO_OID}${n}`))
  const issuer = get(8) ?? get(1) ?? signer.identity?.extensions?.issuer
  const legacyRepo = get(5)
  return {
    issuer,
    signerUri: signer.identity?.subjectAlternativeName,
    sourceRepository: get(12) ?? (legacyRepo && issuer === GITHUB_ACTIONS_ISSUER ? `https://github.com/${legacyRepo}` : undefined),
    commit: get(13) ?? get(3),
    ref: get(14) ?? get(6),
    buildTrigger: get(20) ?? get(2),
  }
}

/** Whether an in-toto subject name is the package URL (qualifiers and %-encoding aside). */
function samePurl (subject: unknown, purl: string): boolean {
  if (typeof subject !== 'string') return false
  const clean = (s: string) => {
    const bare = s.replace(/[?#].*$/, '')
    try {
      return decodeURIComponent(bare)
    } catch {
      return bare
    }
  }
  return clean(subject) === clean(purl)
}

/** Checks the statement is about this package and these bytes; returns the problem, if any. */
export function subjectProblem (statement: any, name: string, version: string, sha512HexDigest: string): string | undefined {
  if (typeof statement?._type !== 'string' || !statement._type.startsWith(INTOTO_STATEMENT_PREFIX)) {
    return 'the payload is not an in-toto statement'
  }
  const purl = npmPurl(name, version)
  const subjects: any[] = Array.isArray(statement.subject) ? statement.subject : []
  const subject = subjects.find(s => samePurl(s?.name, purl))
  if (!subject) {
    return `the statement is about ${subjects.map(s => String(s?.name)).join(', ') || 'nothing'}, not ${purl}`
  }
  const digest = typeof subject.digest?.sha512 === 'string' ? subject.digest.sha512.toLowerCase() : undefined
  if (digest !== sha512HexDigest) {
    return `the attested sha512 ${digest ?? '(none)'} is not the lockfile integrity's ${sha512HexDigest}`
  }
  return undefined
}

const materials = new WeakMap<TrustedRoot, WeakMap<readonly RegistryKey[], PreparedTrust>>()
const NO_KEYS: readonly RegistryKey[] = Object.freeze([])

/**
 * Trust material: the Sigstore root, plus the registry's attestation keys for
 * key-signed bundles; prepared once per (root, key list) so certificates are
 * parsed and encoded once and key objects created once.
 */
export function trustMaterialFor (root: TrustedRoot, keys: readonly RegistryKey[] = NO_KEYS): PreparedTrust {
  let byKeys = materials.get(root)
  if (!byKeys) materials.set(root, byKeys = new WeakMap())
  let tm = byKeys.get(keys)
  if (!tm) {
    const attestationKeys = keysFor(keys, 'npm:attestations')
    const keyObjects = new Map<string, KeyObject>()
    tm = new PreparedTrust(root, (hint: string) => {
      const key = attestationKeys.find(k => k.keyid === hint)
      if (!key) throw Object.assign(new Error(`no registry attestation key ${hint}`), { code: 'PUBLIC_KEY_ERROR' })
      let publicKey = keyObjects.get(key.key)
      if (!publicKey) keyObjects.set(key.key, publicKey = sigstoreCrypto.createPublicKey(Buffer.from(key.key, 'base64'), 'spki'))
      const from = key.validFrom ? Date.parse(key.validFrom) : NaN
      const until = key.expires ? Date.parse(key.expires) : NaN
      return {
        publicKey,
        // npm checks the Rekor integration time against the key's validity
        validFor: (date: Date) => (Number.isNaN(from) || date.getTime() >= from) &&
          (Number.isNaN(until) || date.getTime() < until),
      }
    })
    byKeys.set(keys, tm)
  }
  return tm
}

interface OpenedBundle {
  readonly bundle: Bundle
  readonly statement: any
  readonly signer: Signer
}

/** Reads the in-toto statement of a bundle without trusting it (to know what kind it is). */
function peekStatement (json: any): any {
  try {
    return JSON.parse(Buffer.from(String(json?.dsseEnvelope?.payload ?? ''), 'base64').toString('utf8'))
  } catch {
    return undefined
  }
}

/** The key hint of a bundle signed by a public key (JSON form), if it is one. */
function publicKeyHint (json: any): string | undefined {
  const hint = json?.verificationMaterial?.publicKey?.hint
  return typeof hint === 'string' ? hint : undefined
}

/** Verifies a DSSE bundle (signature, certificate chain or key, transparency log) and returns its verified statement. */
function openBundle (json: unknown, expect: 'certificate' | 'public-key', trust: PreparedTrust): OpenedBundle {
  const bundle = bundleFromJSON(json)
  if (bundle.content.$case !== 'dsseEnvelope') throw new Error('the bundle holds no DSSE envelope')
  const envelope = bundle.content.dsseEnvelope
  if (envelope.payloadType !== INTOTO_PAYLOAD_TYPE) throw new Error(`unexpected payload type ${envelope.payloadType}`)
  const byKey = bundle.verificationMaterial.content.$case === 'publicKey'
  if (expect === 'certificate' && byKey) throw new Error('provenance must be signed with a Sigstore certificate, not a key')
  if (expect === 'public-key' && !byKey) throw new Error('the publish attestation must be signed by a registry key')
  // @sigstore/core's ASN.1 parser tries every OCTET STRING as nested DER and
  // throws when it is not: stack traces for those (and for our refusals, of
  // which only the message is used) are a tenth of the cost. Synchronous, so
  // nothing else runs before the limit is restored.
  const stackTraceLimit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  let signer: Signer
  try {
    const entity = preparedEntity(bundle)
    signer = new Verifier(trust.forLeaf(leafOf(entity))).verify(entity)
  } finally {
    Error.stackTraceLimit = stackTraceLimit
  }
  let statement: any
  try {
    statement = JSON.parse(Buffer.from(envelope.payload).toString('utf8'))
  } catch {
    throw new Error('the signed payload is not JSON')
  }
  return { bundle, statement, signer }
}

export interface VerifyAttestationsInput {
  readonly name: string
  readonly version: string
  /** the lockfile's integrity */
  readonly integrity: string
  /** the registry's attestations response: `{ attestations: [{ predicateType, bundle }] }` */
  readonly attestations: unknown
  readonly trustedRoot: TrustedRoot
  readonly trustedRootSource?: 'tuf' | 'embedded' | 'file'
  /** the registry's keys (for the npm publish attestation); none: that attestation is not checked */
  readonly keys?: readonly RegistryKey[]
}

/**
 * Verifies every provenance and publish attestation of a version. Pure (the
 * crypto is local, the trusted root and keys are given). Any attestation
 * that fails makes the outcome `invalid`.
 */
export function verifyAttestations (input: VerifyAttestationsInput): ProvenanceOutcome {
  const { name, version } = input
  const trustedRootSource = input.trustedRootSource
  const hex = sha512Hex(input.integrity)
  if (!hex) return { status: 'not-checked', reason: 'the lockfile has no sha512 integrity', trustedRootSource }
  const list = (input.attestations as { attestations?: unknown } | undefined)?.attestations
  if (!Array.isArray(list) || !list.length) {
    return { status: 'not-checked', reason: 'the registry advertised attestations but served none', trustedRootSource }
  }
  const keys = input.keys ?? NO_KEYS
  const attestationKeyIds = new Set(keysFor(keys, 'npm:attestations').map(k => k.keyid))
  const tm = trustMaterialFor(input.trustedRoot, keys)

  let fields: (ProvenanceFields & { rekorLogIndex?: string }) | undefined
  let publishAttestation: ProvenanceOutcome['publishAttestation'] = 'absent'
  const notes: string[] = []
  const problems: string[] = []

  for (const entry of list as any[]) {
    const peeked = peekStatement(entry?.bundle)
    const predicateType = str(peeked?.predicateType) ?? str(entry?.predicateType)
    if (isProvenanceType(predicateType)) {
      try {
        const { bundle, statement, signer } = openBundle(entry.bundle, 'certificate', tm)
        if (!isProvenanceType(statement.predicateType)) throw new Error('the signed statement is not SLSA provenance')
        const subject = subjectProblem(statement, name, version, hex)
        if (subject) throw new Error(subject)
        const claimed = extractProvenanceFields(statement.predicateType, statement.predicate)
        const cert = certificateClaims(signer)
        // the certificate is what the CI vouched for; the statement must agree with it
        if (cert.sourceRepository && claimed.sourceRepository &&
          normalizeRepository(cert.sourceRepository) !== normalizeRepository(claimed.sourceRepository)) {
          throw new Error(`the statement names repository ${claimed.sourceRepository} but the signing certificate was issued to ${cert.sourceRepository}`)
        }
        if (cert.commit && claimed.commit && cert.commit.toLowerCase() !== claimed.commit.toLowerCase()) {
          throw new Error(`the statement names commit ${claimed.commit} but the signing certificate was issued for ${cert.commit}`)
        }
        fields ??= {
          sourceRepository: cert.sourceRepository ?? claimed.sourceRepository,
          commit: claimed.commit ?? cert.commit,
          ref: claimed.ref ?? cert.ref,
          workflow: claimed.workflow,
          builder: claimed.builder,
          buildTrigger: claimed.buildTrigger ?? cert.buildTrigger,
          rekorLogIndex: bundle.verificationMaterial.tlogEntries[0]?.logIndex,
        }
      } catch (err) {
        problems.push(`provenance: ${errorMessage(err)}`)
      }
    } else if (predicateType === NPM_PUBLISH_V01) {
      if (!attestationKeyIds.size) {
        notes.push('the publish attestation was not checked: no registry attestation keys')
        if (publishAttestation === 'absent') publishAttestation = undefined
        continue
      }
      // Signed by a key the registry does not serve (npm's own key, behind a
      // registry with keys of its own): npm reports a missing key, not a bad
      // signature. A bundle naming a served key must verify.
      const hint = publicKeyHint(entry?.bundle)
      if (hint !== undefined && !attestationKeyIds.has(hint)) {
        notes.push(`the publish attestation was not checked: it is signed by key ${hint}, which the registry does not serve`)
        if (publishAttestation === 'absent') publishAttestation = undefined
        continue
      }
      try {
        const { statement } = openBundle(entry.bundle, 'public-key', tm)
        if (statement.predicateType !== NPM_PUBLISH_V01) throw new Error('the signed statement is not a publish attestation')
        const subject = subjectProblem(statement, name, version, hex)
        if (subject) throw new Error(subject)
        const p = statement.predicate ?? {}
        if (p.name !== name || p.version !== version) {
          throw new Error(`the publish attestation is for ${p.name}@${p.version}`)
        }
        if (publishAttestation !== 'invalid') publishAttestation = 'verified'
      } catch (err) {
        publishAttestation = 'invalid'
        problems.push(`publish attestation: ${errorMessage(err)}`)
      }
    }
    // other predicate types are not used, so not required to verify
  }

  if (problems.length) {
    return { status: 'invalid', reason: problems.join('; '), publishAttestation, trustedRootSource }
  }
  if (!fields) {
    return {
      status: 'absent',
      reason: ['no provenance attestation', ...notes].join('; '),
      publishAttestation,
      trustedRootSource,
    }
  }
  return {
    status: 'verified',
    ...fields,
    reason: notes.length ? notes.join('; ') : undefined,
    publishAttestation,
    trustedRootSource,
  }
}

// the check itself (fetching, facts, the pool) lives apart, without the Sigstore libraries
export { attestationsUrl, closeProvenancePool, provenanceCheck, provenanceFor, provenancePoolOf, provenanceViolations } from './provenance-check.js'
