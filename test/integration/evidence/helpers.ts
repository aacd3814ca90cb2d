// Set-up for the evidence integration tests: fixture registries whose Store is
// reachable (to publish a version with exact, externally made tarball bytes,
// e.g. the real sigstore@1.0.0), projects locked by real npm, and the CLI.
//
// startRegistry() of test/fixtures/registry keeps its Store private and its
// publish() always builds the tarball itself, so a version whose integrity is
// fixed by the real npm registry (and by the Sigstore attestation subject)
// cannot be published through it. startStoreRegistry() below is the same
// server and Store as startRegistry(), with the Store returned.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import fs from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { AddressInfo } from 'node:net'
import { getTestCa } from '../../fixtures/registry/ca.js'
import { Faults } from '../../fixtures/registry/faults.js'
import { createRegistryServer } from '../../fixtures/registry/server.js'
import { createRegistryKeys, type SignatureMode } from '../../fixtures/registry/signing.js'
import { Store, type NpmUser, type Published } from '../../fixtures/registry/store.js'
import { integrityOf, shasumOf, type FixtureRegistry, type PublishSpec, type RequestLogEntry } from '../../fixtures/registry/index.js'
import { runCli, type CliResult, REPO_ROOT } from '../../helpers/cli.js'
import { lock, makeProject, type Project, type ProjectOptions } from '../../helpers/project.js'

export const REAL_NPM_SHARED = '/work/shared/fixtures/real-npm'
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

/** The text of `package/package.json` in a gzipped tarball (ustar, as npm packs). */
export function tarballPackageJson (tgz: Buffer): string {
  const tar = gunzipSync(tgz)
  let off = 0
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512)
    if (header.every(b => b === 0)) break
    const cstr = (a: number, b: number) => header.subarray(a, b).toString('utf8').replace(/\0.*$/s, '')
    const prefix = cstr(345, 500)
    const name = (prefix ? prefix + '/' : '') + cstr(0, 100)
    const size = parseInt(cstr(124, 136).trim() || '0', 8)
    const body = tar.subarray(off + 512, off + 512 + size)
    if (name === 'package/package.json') return body.toString('utf8')
    off += 512 + Math.ceil(size / 512) * 512
  }
  throw new Error('no package/package.json in the tarball')
}

export interface StoreRegistry extends FixtureRegistry {
  store: Store
  /**
   * Publishes a version whose tarball is `bytes`, verbatim: the packument's
   * manifest is the tarball's package.json, dist.integrity/shasum describe
   * these bytes, and the registry signature (per `signature`) signs them.
   */
  publishTarball (bytes: Buffer, opts?: { time?: string, npmUser?: NpmUser, signature?: SignatureMode, tag?: string }): Promise<Published>
}

/** startRegistry() of the fixture, with its Store exposed and raw-tarball publishing. */
export async function startStoreRegistry (opts: { keys?: boolean } = {}): Promise<StoreRegistry> {
  const ca = getTestCa()
  const dir = mkdtempSync(path.join(tmpdir(), 'si-registry-'))
  const caFile = path.join(dir, 'ca.pem')
  writeFileSync(caFile, ca.caPem)
  const keys = createRegistryKeys()
  const faults = new Faults()
  const requests: RequestLogEntry[] = []
  const s = new Store(keys, opts.keys ?? true)
  const server = createRegistryServer({ key: ca.serverKeyPem, cert: ca.serverCertPem }, s, faults, requests)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`
  s.url = url
  return {
    url,
    caFile,
    caPem: ca.caPem,
    keyId: keys.main.keyid,
    publicKeyBase64: keys.main.publicKeyBase64,
    requests,
    store: s,
    publish: async (p: PublishSpec) => s.publish(p),
    publishTarball: async (bytes, o = {}) => {
      const pkgText = tarballPackageJson(bytes)
      const manifest = JSON.parse(pkgText)
      const { name, version } = manifest
      s.publish({ name, version, manifest, files: { 'package.json': pkgText }, time: o.time, npmUser: o.npmUser, signature: o.signature, tag: o.tag })
      const rec = s.get(name, version)
      rec.tarball = bytes
      rec.integrity = integrityOf(bytes)
      rec.shasum = shasumOf(bytes)
      // re-sign over the real integrity
      s.setSignature(name, version, o.signature ?? 'valid')
      return s.published(rec)
    },
    republish: async (name, version, files) => s.republish(name, version, files),
    tamperTarball: (name, version, bytes) => s.tamper(name, version, bytes),
    setSignature: (name, version, mode) => s.setSignature(name, version, mode),
    stripEvidence: (on) => { s.evidenceStripped = on },
    setKeysServed: (on) => { s.keysServed = on },
    setAttestations: (name, version, body) => { s.get(name, version).attestations = body },
    setAdvisories: (list) => { s.advisories = list },
    failNext: (pattern, times, kind) => faults.arm(pattern, times, kind),
    stop: async () => {
      await new Promise<void>(resolve => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface Setup {
  registry: FixtureRegistry
  project: Project
  si: (args: string[], env?: Record<string, string | undefined>) => Promise<CliResult>
  siJson: (args: string[], env?: Record<string, string | undefined>) => Promise<{ code: number | null, report: any, stderr: string, stdout: string }>
  lockfile: () => any
  nodeModules: string
  cleanup: () => Promise<void>
}

/**
 * A project locked by real npm against `registry` (already populated).
 * `others` are more registries stopped at cleanup.
 */
export async function setupOn (registry: FixtureRegistry, project: Omit<ProjectOptions, 'registry'>, others: FixtureRegistry[] = []): Promise<Setup> {
  const proj = makeProject({ ...project, registry: { url: registry.url, caFile: registry.caFile } })
  await lock(proj.dir, proj.userconfig, proj.cache)
  const si = (args: string[], env?: Record<string, string | undefined>) =>
    runCli([...args, '--userconfig', proj.userconfig], { cwd: proj.dir, env: { ...DEAD_TUF_ENV, ...env } })
  return {
    registry,
    project: proj,
    si,
    siJson: async (args, env) => {
      const r = await si([...args, '--json'], env)
      let report: any
      try { report = JSON.parse(r.stdout) } catch { throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`) }
      return { code: r.code, report, stderr: r.stderr, stdout: r.stdout }
    },
    lockfile: () => JSON.parse(readFileSync(path.join(proj.dir, 'package-lock.json'), 'utf8')),
    nodeModules: path.join(proj.dir, 'node_modules'),
    cleanup: async () => {
      await registry.stop()
      for (const o of others) await o.stop()
      fs.rmSync(proj.root, { recursive: true, force: true })
    },
  }
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
