#!/usr/bin/env node
// Cost of the publishing-evidence cryptography per package, on the real
// sigstore@1.0.0 data (registry signature + SLSA provenance + npm publish
// attestation, verified offline against the embedded trusted root and keys).
// Usage: npm run build && node bench/evidence-cost.mjs [iterations]
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { TrustedRoot } from '@sigstore/protobuf-specs'
import { verifyRegistrySignature } from '../dist/evidence/signatures.js'
import { verifyAttestations } from '../dist/evidence/provenance.js'
import { embeddedTarget } from '../dist/evidence/tuf.js'
import { parseTufKeys } from '../dist/evidence/keys.js'
import { DEFAULT_REGISTRY } from '../dist/config/load.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const real = process.env.SAFE_INSTALL_REAL_NPM ?? path.resolve(here, '..', '..', 'shared', 'fixtures', 'real-npm')
const dist = JSON.parse(fs.readFileSync(path.join(real, 'sigstore-1.0.0.dist.json'), 'utf8')).dist
const attestations = JSON.parse(fs.readFileSync(path.join(real, 'sigstore-1.0.0.attestations.json'), 'utf8'))
const keys = parseTufKeys(JSON.parse(embeddedTarget(`${new URL(DEFAULT_REGISTRY).host}/keys.json`)))
const trustedRoot = TrustedRoot.fromJSON(JSON.parse(embeddedTarget('trusted_root.json')))
const n = Number(process.argv[2] ?? 200)
const input = { name: 'sigstore', version: '1.0.0', integrity: dist.integrity }

function time (label, fn) {
  const first = fn()
  const t = process.hrtime.bigint()
  for (let i = 0; i < n; i++) fn()
  const ms = Number(process.hrtime.bigint() - t) / 1e6 / n
  console.log(`${label}: ${first.status}, ${ms.toFixed(3)} ms per package; for 1,502 packages ${(ms * 1502 / 1000).toFixed(2)} s of one core`)
}
time('registry signature', () => verifyRegistrySignature({ ...input, signatures: dist.signatures, keys, publishedAt: '2023-02-09T17:56:00Z' }))
time('provenance + publish attestation', () => verifyAttestations({ ...input, attestations, trustedRoot, trustedRootSource: 'embedded', keys }))
