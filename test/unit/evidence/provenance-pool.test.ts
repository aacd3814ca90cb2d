// The provenance worker pool: the same outcomes as verifyAttestations on the
// main thread, started lazily, bounded, closed, and never needed for a result.
// The workers run the compiled dist/ (npm run build first, as for the
// integration tests).
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { TrustedRoot } from '@sigstore/protobuf-specs'
import { ProvenancePool, defaultPoolSize } from '../../../lib/evidence/provenance-pool.js'
import { provenanceCheck, provenancePoolOf, verifyAttestations } from '../../../lib/evidence/provenance.js'
import { embeddedTarget } from '../../../lib/evidence/tuf.js'
import { EvidenceRun } from '../../../lib/evidence/run.js'
import { embeddedKeys, fakeCtx, offlineRun, PUBLIC, REAL_INTEGRITY, realAttestations, realPkg } from './helpers.js'

const WORKER = new URL('../../../dist/evidence/provenance-worker.js', import.meta.url)
const POOL_JS = new URL('../../../dist/evidence/provenance-pool.js', import.meta.url)
const root = TrustedRoot.fromJSON(JSON.parse(embeddedTarget('trusted_root.json')!))
const input = { name: 'sigstore', version: '1.0.0', integrity: REAL_INTEGRITY, attestations: realAttestations, trustedRoot: root, trustedRootSource: 'embedded' as const, keys: embeddedKeys() }

function tampered () {
  const copy = structuredClone(realAttestations)
  const env = copy.attestations[0].bundle.dsseEnvelope
  env.payload = Buffer.from(Buffer.from(env.payload, 'base64').toString('utf8').replace('sigstore/sigstore-js', 'evil/sigstore-js')).toString('base64')
  return copy
}

describe.skipIf(!existsSync(fileURLToPath(WORKER)))('ProvenancePool', { timeout: 60_000 }, () => {
  it('starts no thread until a bundle needs verifying, verifies here while it starts, then there; answers as verifyAttestations does', async () => {
    const pool = new ProvenancePool({ size: 2, workerUrl: WORKER })
    expect(pool.started).toBe(0)
    try {
      const first = await pool.verify(input)
      expect(pool.started).toBe(1)
      expect(pool.stats).toEqual({ inline: 1, offloaded: 0 })
      expect(first).toEqual(verifyAttestations(input))
      await pool.start()
      expect(pool.started).toBe(2)
      const out = await pool.verify(input)
      expect(pool.stats).toEqual({ inline: 1, offloaded: 1 })
      expect(pool.inline).toBeUndefined()
      expect(out).toEqual(verifyAttestations(input))
      expect(out).toMatchObject({ status: 'verified', publishAttestation: 'verified' })
      const bad = { ...input, attestations: tampered() }
      expect(await pool.verify(bad)).toEqual(verifyAttestations(bad))
      expect((await pool.verify(bad)).status).toBe('invalid')
      const noKeys = { ...input, keys: undefined }
      expect(await pool.verify(noKeys)).toEqual(verifyAttestations(noKeys))
      expect(pool.stats).toEqual({ inline: 1, offloaded: 4 })
    } finally {
      await pool.close()
    }
    expect(pool.started).toBe(0)
  })

  it('runs jobs on at most `size` threads', async () => {
    const pool = new ProvenancePool({ size: 2, workerUrl: WORKER })
    try {
      await pool.start()
      const jobs = Array.from({ length: 12 }, (_, i) => pool.verify(i % 3 === 2 ? { ...input, version: '1.0.1' } : input))
      expect(pool.started).toBe(2)
      const outs = await Promise.all(jobs)
      expect(outs.map(o => o.status)).toEqual(Array.from({ length: 12 }, (_, i) => i % 3 === 2 ? 'invalid' : 'verified'))
      expect(pool.started).toBe(2)
      expect(pool.stats).toEqual({ inline: 0, offloaded: 12 })
    } finally {
      await pool.close()
    }
    expect(defaultPoolSize()).toBeGreaterThanOrEqual(1)
  })

  it('a worker that cannot run: the job, and later ones, are verified on the main thread', async () => {
    const pool = new ProvenancePool({ workerUrl: new URL('./no-such-worker.js', WORKER) })
    try {
      await pool.start()
      expect(pool.inline).toMatch(/worker/)
      expect(await pool.verify(input)).toEqual(verifyAttestations(input))
      expect(await pool.verify(input)).toMatchObject({ status: 'verified' })
      expect(pool.stats).toEqual({ inline: 2, offloaded: 0 })
    } finally {
      await pool.close()
    }
  })

  it('idle workers do not keep the process alive (no close needed to exit)', async () => {
    const script = `
      import { ProvenancePool } from ${JSON.stringify(POOL_JS.href)}
      import { TrustedRoot } from '@sigstore/protobuf-specs'
      import { embeddedTarget } from ${JSON.stringify(new URL('../../../dist/evidence/tuf.js', import.meta.url).href)}
      import fs from 'node:fs'
      const input = JSON.parse(fs.readFileSync(0, 'utf8'))
      const pool = new ProvenancePool()
      await pool.start()
      const out = await pool.verify({ ...input, trustedRoot: TrustedRoot.fromJSON(JSON.parse(embeddedTarget('trusted_root.json'))) })
      console.log(out.status, pool.stats.offloaded)`
    const { trustedRoot: _, ...rest } = input
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../../..', import.meta.url)), timeout: 30_000 },
        (err, out) => err ? reject(err) : resolve(out))
      child.stdin!.end(JSON.stringify(rest))
    })
    expect(stdout.trim()).toBe('verified 1')
  })
})

describe('the provenance check and its pool', () => {
  it('a warm run (verified outcome in the facts cache) creates no pool; finish closes one that was started', async () => {
    const ATT_URL = `${PUBLIC}-/npm/v1/attestations/sigstore@1.0.0`
    const run = offlineRun()
    const ctx = fakeCtx({ fetch: { [ATT_URL]: realAttestations } })
    const check = provenanceCheck(run)
    expect((await check.check!(realPkg(), ctx)).evidence?.provenance?.status).toBe('verified')
    expect(provenancePoolOf(run)).toBeDefined()
    await check.finish!([realPkg()], ctx)
    expect(provenancePoolOf(run)!.started).toBe(0)

    const warmRun = new EvidenceRun({ tuf: { target: () => { throw new Error('no TUF on a warm run') } } })
    const warm = fakeCtx({ factStore: ctx.factStore })
    expect((await provenanceCheck(warmRun).check!(realPkg(), warm)).evidence?.provenance?.status).toBe('verified')
    expect(provenancePoolOf(warmRun)).toBeUndefined()
  })
})
