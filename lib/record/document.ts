// The shape of a record as read back from disk (parsed CycloneDX JSON). Only
// the parts safe-install reads are typed; everything else passes through.

/** A parsed record as read back from disk; only the parts safe-install reads are typed. */
export interface RecordDocument {
  readonly bomFormat: 'CycloneDX'
  readonly specVersion: string
  readonly metadata?: {
    readonly timestamp?: string
    readonly component?: RecordComponent
    readonly properties?: readonly RecordProperty[]
  }
  readonly components?: readonly RecordComponent[]
  readonly dependencies?: readonly { ref: string, dependsOn?: readonly string[] }[]
  readonly vulnerabilities?: readonly Record<string, unknown>[]
  readonly [key: string]: unknown
}

export interface RecordProperty {
  readonly name: string
  readonly value?: string
}

export interface RecordComponent {
  readonly type?: string
  readonly name: string
  readonly group?: string
  readonly version?: string
  readonly 'bom-ref'?: string
  readonly purl?: string
  readonly properties?: readonly RecordProperty[]
  readonly components?: readonly RecordComponent[]
  readonly [key: string]: unknown
}
