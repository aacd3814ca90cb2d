// The evidence checks after integrity (SCVS 4.3-4.5, 4.10, 4.12), in the
// order the pipeline should run them. One call per run: the checks share
// per-run state (registry keys, trusted root, version documents, provenance).
import type { Options } from '../options.js'
import type { EvidenceCheck } from './check.js'
import { identityCheck } from './identity.js'
import { provenanceCheck } from './provenance-check.js'
import { EvidenceRun, type EvidenceServices } from './run.js'
import { signaturesCheck } from './signatures.js'
import { trustCheck, trustSkipped } from './trust.js'

export function evidenceChecks (options: Options, services: EvidenceServices = {}): EvidenceCheck[] {
  const { policy } = options
  const run = new EvidenceRun(services)
  const checks: EvidenceCheck[] = []
  if (policy.signatures !== 'off') checks.push(signaturesCheck(run))
  if (policy.provenance !== 'off') checks.push(provenanceCheck(run), identityCheck(run))
  if (!trustSkipped(policy)) checks.push(trustCheck(run))
  return checks
}

export { EvidenceRun, type EvidenceServices } from './run.js'
export { verifyRegistrySignature, signatureViolations, signaturesCheck, MISSING_TIME_CUTOFF } from './signatures.js'
export { compareIdentity, identityFromProvenance, identityViolations, identityCheck } from './identity.js'
export { normalizeRepository, repositoryUrl } from './repository.js'
export { assessTrust, trustLevelOf, trustViolations, trustCheck, trustSkipped } from './trust.js'
export { parseNpmKeys, parseTufKeys, loadRegistryKeys, RegistryKeyStore, type RegistryKey, type RegistryKeySet } from './keys.js'
export { createSigstoreTargets, embeddedTarget, tufCachePath, type SigstoreTargets } from './tuf.js'
