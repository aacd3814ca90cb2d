// Fakes for the evidence checks: options, CheckContext, VerifiedPackage and
// the real sigstore@1.0.0 data. No network: every fetch is a table lookup.
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CheckContext, FactCache } from '../../../lib/evidence/check.js'
import type { Options, Policy } from '../../../lib/options.js'
import type { PlanEntry, RunNote, VerifiedPackage } from '../../../lib/types.js'
import { createSigstoreTargets, embeddedTarget } from '../../../lib/evidence/tuf.js'
import { EvidenceRun } from '../../../lib/evidence/run.js'
import { parseTufKeys } from '../../../lib/evidence/keys.js'
import { PUBLIC_HOST, PUBLIC_REGISTRY } from '../../helpers/registry-host.js'
import { optionsWith, planEntry, policyWith } from '../../helpers/model.js'

// ../shared beside the repository, as CI lays it out
export const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/real-npm', import.meta.url))
export const PUBLIC = PUBLIC_REGISTRY
export const PROXY = 'https://proxy.example.test/npm/'

export const realDist = JSON.parse(readFileSync(path.join(FIXTURES, 'sigstore-1.0.0.dist.json'), 'utf8'))
export const realAttestations = JSON.parse(readFileSync(path.join(FIXTURES, 'sigstore-1.0.0.attestations.json'), 'utf8'))
export const REAL_INTEGRITY: string = realDist.dist.integrity
/** publish time of sigstore@1.0.0 (its Rekor entries are from 2023-02-09T17:56) */
export const REAL_PUBLISHED = '2023-02-09T17:56:00.000Z'
export const embeddedKeys = () => parseTufKeys(JSON.parse(embeddedTarget(`${PUBLIC_HOST}/keys.json`)!))

export const defaultPolicy: Policy = policyWith({ allowDirectory: 'root', auditLevel: 'high' })

export function tmpDir (): string {
  return mkdtempSync(path.join(os.tmpdir(), 'si-evidence-'))
}

export function fakeOptions (policy: Partial<Policy> = {}, extra: Partial<Options> = {}): Options {
  return optionsWith({ ...defaultPolicy, ...policy }, { prefix: '/tmp/project', cache: tmpDir(), registry: PUBLIC, ...extra })
}

type Answer = unknown | Error | (() => unknown)

export interface FakeCtx extends CheckContext {
  readonly calls: string[]
  readonly notes: RunNote[]
  readonly factStore: Map<string, string>
}

/** A CheckContext over tables: `fetch` by URL, `packuments` by `registry name`; facts round-trip through JSON like a disk cache. */
export function fakeCtx (opts: {
  options?: Options
  fetch?: Record<string, Answer>
  packuments?: Record<string, Answer>
  factStore?: Map<string, string>
} = {}): FakeCtx {
  const calls: string[] = []
  const notes: RunNote[] = []
  const factStore = opts.factStore ?? new Map<string, string>()
  const answer = (table: Record<string, Answer> | undefined, key: string) => {
    if (!table || !(key in table)) return undefined
    const v = table[key]
    if (v instanceof Error) throw v
    return typeof v === 'function' ? (v as () => unknown)() : structuredClone(v)
  }
  const facts: FactCache = {
    async get<T> (kind: string, key: string) {
      const v = factStore.get(`${kind} ${key}`)
      return v === undefined ? undefined : JSON.parse(v) as T
    },
    async set (kind: string, key: string, value: unknown) {
      factStore.set(`${kind} ${key}`, JSON.stringify(value))
    },
  }
  return {
    options: opts.options ?? fakeOptions(),
    plan: { root: '/tmp/project', rootName: 'p', rootVersion: '1.0.0', lockfile: 'package-lock.json', entries: [], rootDependencies: [], workspaces: [] },
    fetchJson: async (url: string) => {
      calls.push(url)
      return answer(opts.fetch, url)
    },
    postJson: async () => undefined,
    fullPackument: async (name: string, registry: string) => {
      calls.push(`packument ${registry} ${name}`)
      return answer(opts.packuments, `${registry} ${name}`)
    },
    facts,
    note: (n: RunNote) => { notes.push(n) },
    calls,
    notes,
    factStore,
  }
}

export function fakePkg (opts: {
  name: string
  version: string
  integrity: string
  registry?: string
  registryManifest?: Record<string, any>
  manifest?: Record<string, any>
  source?: PlanEntry['source']
}): VerifiedPackage {
  const registry = opts.registry ?? PUBLIC
  const entry: PlanEntry = planEntry({
    name: opts.name,
    version: opts.version,
    resolved: `${registry}${opts.name}/-/${opts.name.replace(/^@[^/]+\//, '')}-${opts.version}.tgz`,
    integrity: opts.integrity,
    source: opts.source ?? 'registry',
  })
  return {
    entry,
    integrity: opts.integrity,
    from: 'network',
    tarballUrl: entry.resolved!,
    registry,
    manifest: opts.manifest ?? { name: opts.name, version: opts.version },
    registryManifest: opts.registryManifest,
    files: [],
    readFile: () => undefined,
  }
}

/** The genuine sigstore@1.0.0 as the public registry serves it. */
export function realPkg (over: Partial<Parameters<typeof fakePkg>[0]> = {}): VerifiedPackage {
  return fakePkg({
    name: 'sigstore',
    version: '1.0.0',
    integrity: REAL_INTEGRITY,
    registryManifest: { name: 'sigstore', version: '1.0.0', dist: structuredClone(realDist.dist) },
    manifest: { name: 'sigstore', version: '1.0.0', repository: { type: 'git', url: 'git+https://github.com/sigstore/sigstore-js.git' } },
    ...over,
  })
}

/** A packument for sigstore with 1.0.0's real time. */
export function realPackument () {
  return {
    name: 'sigstore',
    time: { '1.0.0': REAL_PUBLISHED },
    versions: { '1.0.0': { name: 'sigstore', version: '1.0.0', dist: structuredClone(realDist.dist) } },
  }
}

/** An EvidenceRun that never touches the network: the embedded Sigstore targets, as if offline. */
export function offlineRun (): EvidenceRun {
  return new EvidenceRun({ tuf: createSigstoreTargets({ cachePath: tmpDir(), offline: true }) })
}

/** A throwaway registry signing key (npm keys endpoint format) and a signer. */
export function testRegistryKey (keyid = 'SHA256:test-key', expires: string | null = null) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const key = publicKey.export({ format: 'der', type: 'spki' }).toString('base64')
  return {
    keyid,
    doc: { keys: [{ keyid, keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key, expires }] },
    sign: (message: string) => cryptoSign('sha256', Buffer.from(message), privateKey).toString('base64'),
  }
}

/** An integrity with one byte of the digest changed. */
export function tamperIntegrity (integrity: string): string {
  const raw = Buffer.from(integrity.slice('sha512-'.length), 'base64')
  raw[0] ^= 0x01
  return `sha512-${raw.toString('base64')}`
}
