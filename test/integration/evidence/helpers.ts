// Set-up for the evidence integration tests: fixture registries whose Store is
// reachable (to publish a version with exact, externally made tarball bytes,
// e.g. the real sigstore@1.0.0), projects locked by real npm, and the CLI.
//
import { readFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { integrityOf, startRegistry, type FixtureRegistry, type RequestLogEntry } from '../../fixtures/registry/index.js'
import { REPO_ROOT } from '../../helpers/cli.js'
import { setupOn as setupOnRegistry, type Setup } from '../helpers.js'
import type { ProjectOptions } from '../../helpers/project.js'

// ../shared beside the repository, as CI lays it out
export const REAL_NPM_SHARED = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'real-npm')
/** the real tarball of sigstore@1.0.0 (`npm pack sigstore@1.0.0`) */
export const REAL_TARBALL = path.join(REPO_ROOT, 'test/fixtures/real-npm/sigstore-1.0.0.tgz')
export const realDist = JSON.parse(readFileSync(path.join(REAL_NPM_SHARED, 'sigstore-1.0.0.dist.json'), 'utf8'))
export const realAttestations = JSON.parse(readFileSync(path.join(REAL_NPM_SHARED, 'sigstore-1.0.0.attestations.json'), 'utf8'))
export const REAL_INTEGRITY: string = realDist.dist.integrity
/** sigstore@1.0.0 was published 2023-02-09 (its Rekor entries are from 17:56 that day) */
export const REAL_PUBLISHED = '2023-02-09T17:56:00.000Z'
/** the npm registry key that signed the real publish attestation and registry signature */
export const NPM_REGISTRY_KEYID = 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA'

export function realTarball (): Buffer {
  if (!existsSync(REAL_TARBALL)) {
    throw new Error(`${REAL_TARBALL} is missing: run \`npm pack sigstore@1.0.0 --pack-destination test/fixtures/real-npm\``)
  }
  const bytes = readFileSync(REAL_TARBALL)
  const got = integrityOf(bytes)
  if (got !== REAL_INTEGRITY) throw new Error(`${REAL_TARBALL} is not the real sigstore@1.0.0 (${got})`)
  return bytes
}

export type StoreRegistry = FixtureRegistry

/** The fixture registry; it publishes exact tarball bytes with publishTarball(). */
export async function startStoreRegistry (opts: { keys?: boolean } = {}): Promise<StoreRegistry> {
  return startRegistry(opts)
}

export type { Setup } from '../helpers.js'

/** A project locked by real npm against `registry` (already populated), the CLI run with the TUF mirror unreachable. */
export async function setupOn (registry: FixtureRegistry, project: Omit<ProjectOptions, 'registry'>, others: FixtureRegistry[] = []): Promise<Setup> {
  return setupOnRegistry(registry, project, { env: DEAD_TUF_ENV, others })
}

/**
 * The Sigstore TUF repository must be unreachable for these tests to be
 * deterministic (the CLI then uses the trusted root embedded in
 * @sigstore/tuf, and says so). A proxy that refuses connections makes every
 * request outside the fixture registry (NO_PROXY) fail at once, whatever
 * this machine's network allows.
 */
export const DEAD_TUF_ENV: Record<string, string> = {
  HTTPS_PROXY: 'http://127.0.0.1:9',
  https_proxy: 'http://127.0.0.1:9',
  HTTP_PROXY: 'http://127.0.0.1:9',
  http_proxy: 'http://127.0.0.1:9',
  NO_PROXY: '127.0.0.1,localhost',
  no_proxy: '127.0.0.1,localhost',
}

/**
 * Per-test timeout: each test spawns real npm once and the CLI a few times;
 * on a loaded 2-core machine that can pass the config's 60 s.
 */
export const SLOW = 180_000

export function codes (report: any): string[] {
  return (report.violations ?? []).map((v: any) => v.code)
}

/** evidence of the package at `node_modules/<name>` in a success report */
export function evidenceOf (report: any, name: string): any {
  return report.packages.find((p: any) => p.path === `node_modules/${name}`)?.evidence
}

/** requests for signing evidence (keys, attestations) in a registry's log */
export function evidenceRequests (reqs: RequestLogEntry[]): string[] {
  return reqs.map(r => r.path).filter(p => p.startsWith('/-/npm/v1/keys') || p.startsWith('/-/npm/v1/attestations/'))
}
