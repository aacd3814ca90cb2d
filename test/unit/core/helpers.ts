// Shared builders for the core unit tests (pure data, no I/O).
import type { Policy } from '../../../lib/options.js'
import type { PlanEntry } from '../../../lib/types.js'
import { planEntry, policyWith } from '../../helpers/model.js'

export function makeEntry (over: Partial<PlanEntry> & { name: string }): PlanEntry {
  return planEntry(over)
}

export function makePolicy (over: Partial<Policy> = {}): Policy {
  return policyWith({ auditLevel: 'high', scan: true, ...over })
}

/** A syntactically valid sha512 SRI string (64 bytes of `fill`). */
export function sha512 (fill = 1): string {
  return 'sha512-' + Buffer.alloc(64, fill).toString('base64')
}

/** A syntactically valid sha1 SRI string (20 bytes of `fill`). */
export function sha1 (fill = 1): string {
  return 'sha1-' + Buffer.alloc(20, fill).toString('base64')
}
