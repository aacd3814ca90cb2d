#!/usr/bin/env node
// Cost of the publishing-evidence cryptography per package, on the real
// sigstore@1.0.0 data (registry signature + SLSA provenance + npm publish
// attestation), verified offline against the Sigstore public-good trusted
// root (the copy embedded in @sigstore/tuf) and the registry keys.
//
// Rows:
//   registry signature             verifyRegistrySignature
//   provenance, @sigstore/verify   the two bundles through @sigstore/verify as it
//                                  comes (toTrustMaterial + Verifier), i.e. before
//                                  provenance-trust.ts
//   provenance, verifyAttestations what safe-install runs on one thread
//   provenance, worker pool        <packages> verifications through the pool
//
// Per-package costs are CPU time of this process (user + system), the best of
// <rounds> rounds, so other load on the machine inflates them less than wall
// time; the pool row is wall time for the whole batch, and how long the main
// thread was busy meanwhile (posting jobs, reading replies).
// Usage: npm run build && node bench/evidence-cost.mjs [iterations] [--packages N] [--rounds R] [--no-pool]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleFromJSON } from '@sigstore/bundle'
import { TrustedRoot } from '@sigstore/protobuf-specs'
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify'
import { crypto as sigstoreCrypto } from '@sigstore/core'
import { verifyRegistrySignature } from '../dist/evidence/signatures.js'
import { verifyAttestations } from '../dist/evidence/provenance.js'
import { embeddedTarget } from '../dist/evidence/tuf.js'
import { parseTufKeys } from '../dist/evidence/keys.js'
import { DEFAULT_REGISTRY } from '../dist/config/load.js'

const args = process.argv.slice(2)
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const positional = args.filter((a, i) => !a.startsWith('--') && !(args[i - 1]?.startsWith('--') && args[i - 1] !== '--no-pool'))
const n = Number(positional[0] ?? 200)
const packages = flag('packages', 1502)
const rounds = flag('rounds', 3)

const here = path.dirname(fileURLToPath(import.meta.url))
const real = process.env.SAFE_INSTALL_REAL_NPM ?? path.resolve(here, '..', '..', 'shared', 'fixtures', 'real-npm')
const dist = JSON.parse(fs.readFileSync(path.join(real, 'sigstore-1.0.0.dist.json'), 'utf8')).dist
const attestations = JSON.parse(fs.readFileSync(path.join(real, 'sigstore-1.0.0.attestations.json'), 'utf8'))
const keys = parseTufKeys(JSON.parse(embeddedTarget(`${new URL(DEFAULT_REGISTRY).host}/keys.json`)))
const trustedRoot = TrustedRoot.fromJSON(JSON.parse(embeddedTarget('trusted_root.json')))
const input = { name: 'sigstore', version: '1.0.0', integrity: dist.integrity }

const fmt = ms => ms.toFixed(3)
function cpuMs () {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

function time (label, fn) {
  const first = fn()
  let best = Infinity
  let bestWall = Infinity
  for (let r = 0; r < rounds; r++) {
    const c = cpuMs()
    const t = process.hrtime.bigint()
    for (let i = 0; i < n; i++) fn()
    bestWall = Math.min(bestWall, Number(process.hrtime.bigint() - t) / 1e6 / n)
    best = Math.min(best, (cpuMs() - c) / n)
  }
  console.log(`${label.padEnd(34)} ${String(first.status ?? first).padEnd(9)} ${fmt(best)} ms CPU per package ` +
    `(wall ${fmt(bestWall)}); ${packages} packages: ${(best * packages / 1000).toFixed(2)} s of one core`)
  return best
}

// @sigstore/verify as it comes: what provenance.ts did before provenance-trust.ts
const plainTrust = toTrustMaterial(trustedRoot, hint => {
  const key = keys.find(k => k.keyid === hint && (k.usage ?? 'npm:attestations') === 'npm:attestations')
  if (!key) throw new Error(`no key ${hint}`)
  return { publicKey: sigstoreCrypto.createPublicKey(Buffer.from(key.key, 'base64'), 'spki'), validFor: () => true }
})
function plain () {
  for (const a of attestations.attestations) new Verifier(plainTrust).verify(toSignedEntity(bundleFromJSON(a.bundle)))
  return 'verified'
}

console.log(`node ${process.version}, ${os.availableParallelism()} cores, load ${os.loadavg().map(l => l.toFixed(2)).join(' ')}; ` +
  `${n} iterations x ${rounds} rounds; trusted root: Sigstore public good (embedded in @sigstore/tuf)`)
time('registry signature', () => verifyRegistrySignature({ ...input, signatures: dist.signatures, keys, publishedAt: '2023-02-09T17:56:00Z' }))
const before = time('provenance, @sigstore/verify', plain)
const after = time('provenance, verifyAttestations', () => verifyAttestations({ ...input, attestations, trustedRoot, trustedRootSource: 'embedded', keys }))
console.log(`  ${(before / after).toFixed(1)}x less CPU per package than @sigstore/verify as it comes`)

if (!args.includes('--no-pool')) {
  const { ProvenancePool } = await import('../dist/evidence/provenance-pool.js')
  const pool = new ProvenancePool()
  const job = () => pool.verify({ ...input, attestations, trustedRoot, trustedRootSource: 'embedded', keys })
  const started = process.hrtime.bigint()
  await pool.start()
  const startMs = Number(process.hrtime.bigint() - started) / 1e6
  const elu = performance.eventLoopUtilization()
  const t = process.hrtime.bigint()
  const outs = await Promise.all(Array.from({ length: packages }, job))
  const wall = Number(process.hrtime.bigint() - t) / 1e6
  const busy = performance.eventLoopUtilization(elu).active
  await pool.close()
  const statuses = new Set(outs.map(o => o.status))
  console.log(`${'provenance, worker pool'.padEnd(34)} ${[...statuses].join(',').padEnd(9)} ${packages} packages in ${(wall / 1000).toFixed(2)} s wall ` +
    `with ${pool.size} worker${pool.size === 1 ? '' : 's'} (${fmt(wall / packages)} ms per package); ` +
    `main thread busy ${(busy / 1000).toFixed(2)} s (one thread alone: ${(after * packages / 1000).toFixed(2)} s of CPU); ` +
    `workers ready after ${(startMs / 1000).toFixed(2)} s (jobs before that run on the main thread)`)
}
