#!/usr/bin/env node
// Cost of the static capability scan (SCVS 4.17) on every tarball of a corpus
// project, split by phase, with the findings written as canonical JSON so two
// builds can be compared byte for byte.
// Usage: npm run build && node bench/scan-cost.mjs [--project DIR] [--runs N] [--out FILE]
//   --dist DIR     the build to measure (default: this checkout's dist/)
//   --cache DIR    npm cache folder (default: `npm config get cache`)
//   --project DIR  a folder with package-lock.json (default ../shared/corpus/large)
//   --runs N       timed passes over all tarballs after one untimed warm-up (default 3)
//   --out FILE     canonical findings JSON (default: not written; its sha256 is always printed)
//   --top N        the N most expensive packages (default 10)
//   --all-platforms  also the packages for other platforms (os/cpu), which ci skips
// Tarballs come from the npm cache by their lockfile integrity; any that are
// missing are fetched once with pacote from the registry npm is configured with.
import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import zlib from 'node:zlib'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..')
const require = createRequire(import.meta.url)

const opt = parseArgs({
  options: {
    dist: { type: 'string', default: path.join(repo, 'dist') },
    cache: { type: 'string' },
    project: { type: 'string', default: path.join(repo, '..', 'shared', 'corpus', 'large') },
    runs: { type: 'string', default: '3' },
    out: { type: 'string' },
    top: { type: 'string', default: '10' },
    'all-platforms': { type: 'boolean', default: false },
  },
}).values

const dist = path.resolve(opt.dist)
const load = (p) => import(pathToFileURL(path.join(dist, p)).href)
const scan = await load('evidence/scan/index.js')
const { indexTarball } = await load('fetch/tar-index.js')
const { pickIntegrity } = await load('fetch/verify.js')
const cacache = require(require.resolve('cacache', { paths: [dist] }))
const { checkPlatform } = require(require.resolve('npm-install-checks', { paths: [dist] }))

const npmConfig = (key) => spawnSync('npm', ['config', 'get', key], { encoding: 'utf8' }).stdout.trim()
const cache = path.resolve(opt.cache ?? npmConfig('cache'))
const runs = Math.max(1, Number(opt.runs))

// ------------------------------------------------------------- the corpus

const lock = JSON.parse(fs.readFileSync(path.join(opt.project, 'package-lock.json'), 'utf8'))
const byIntegrity = new Map()
let otherPlatforms = 0
for (const [loc, e] of Object.entries(lock.packages ?? {})) {
  if (loc === '' || e.link || e.inBundle || !e.integrity) continue
  if (!opt['all-platforms']) {
    try { checkPlatform({ _id: loc, os: e.os, cpu: e.cpu, libc: e.libc }) } catch { otherPlatforms++; continue }
  }
  const name = e.name ?? loc.slice(loc.lastIndexOf('node_modules/') + 'node_modules/'.length)
  const integrity = pickIntegrity(e.integrity)
  if (!byIntegrity.has(integrity)) byIntegrity.set(integrity, { spec: `${name}@${e.version}`, name, version: e.version, integrity })
}
const pkgs = [...byIntegrity.values()].sort((a, b) => a.spec < b.spec ? -1 : a.spec > b.spec ? 1 : 0)

let t = performance.now()
let fetched = 0
let registry
for (const p of pkgs) {
  for (const dir of [path.join(cache, '_cacache'), path.join(cache, '_safe-install', 'tarballs')]) {
    try { p.tgz = await cacache.get.byDigest(dir, p.integrity); break } catch {}
  }
  if (!p.tgz) {
    const pacote = require(require.resolve('pacote', { paths: [dist] }))
    p.tgz = await pacote.tarball(`${p.name}@${p.version}`, { cache: path.join(cache, '_cacache'), integrity: p.integrity, registry: registry ??= npmConfig('registry') })
    fetched++
  }
}
const readMs = performance.now() - t
const tgzBytes = pkgs.reduce((n, p) => n + p.tgz.length, 0)
process.stderr.write(`${otherPlatforms ? `${otherPlatforms} lockfile entries for other platforms skipped; ` : ''}${pkgs.length} tarballs (${mb(tgzBytes)} MB) read from the cache in ${readMs.toFixed(0)} ms${fetched ? `, ${fetched} fetched` : ''}\n`)

// ------------------------------------------------------------------ a pass

function pass (collect) {
  const total = { gunzip: 0, untar: 0, scan: 0, ...scan.newScanTiming?.() }
  const stats = {}
  const perPkg = []
  const results = collect ? {} : undefined
  const cpu0 = process.cpuUsage()
  let unpacked = 0
  for (const p of pkgs) {
    let t0 = performance.now()
    const raw = zlib.gunzipSync(p.tgz)
    unpacked += raw.length
    let t1 = performance.now()
    total.gunzip += t1 - t0
    t0 = t1
    const index = indexTarball(raw)
    t1 = performance.now()
    total.untar += t1 - t0
    const input = {
      manifest: index.manifest ?? {},
      files: index.files,
      readFile: (f) => index.contents.get(f),
      entry: { source: 'registry' },
    }
    const timing = scan.newScanTiming?.()
    t0 = performance.now()
    const { result, stats: s } = scan.scanPackageWithStats(input, timing)
    t1 = performance.now()
    total.scan += t1 - t0
    for (const [k, v] of Object.entries(timing ?? {})) total[k] += v
    for (const [k, v] of Object.entries(s)) stats[k] = (stats[k] ?? 0) + v
    perPkg.push({ spec: p.spec, ms: t1 - t0, jsBytes: s.jsBytes, parsed: s.parsed })
    if (results) results[`${p.spec} ${p.integrity}`] = result
  }
  const cpu = process.cpuUsage(cpu0)
  return { total, stats, perPkg, results, cpuMs: (cpu.user + cpu.system) / 1000, unpacked }
}

const first = pass(true)
const canonical = JSON.stringify(sortKeys(first.results), null, 1) + '\n'
const digest = crypto.createHash('sha256').update(canonical).digest('hex')
if (opt.out) fs.writeFileSync(opt.out, canonical)

const timed = []
for (let i = 0; i < runs; i++) timed.push(pass(false))
const med = (f) => median(timed.map(f))
const phases = Object.keys(timed[0].total)
const perPkg = new Map()
for (const r of timed) for (const p of r.perPkg) perPkg.set(p.spec, [...(perPkg.get(p.spec) ?? []), p])

const withCaps = Object.values(first.results).filter(r => r.capabilities.length > 0).length
const findingCount = Object.values(first.results).reduce((n, r) => n + r.findings.length, 0)
const out = {
  dist,
  project: path.resolve(opt.project),
  packages: pkgs.length,
  tgzMB: mb(tgzBytes),
  unpackedMB: mb(first.unpacked),
  runs,
  /** CPU of a whole pass (gunzip + untar + scan): wall phases inflate when the machine is busy */
  passCpuMs: timed.map(r => Math.round(r.cpuMs)),
  medianMs: Object.fromEntries(phases.map(k => [k, Math.round(med(r => r.total[k]))])),
  runsMs: timed.map(r => Math.round(r.total.scan)),
  stats: first.stats,
  findings: { sha256: digest, packagesWithCapabilities: withCaps, findings: findingCount },
  top: [...perPkg].map(([spec, xs]) => ({ spec, ms: Math.round(median(xs.map(x => x.ms))), jsKB: Math.round(xs[0].jsBytes / 1024), parsed: xs[0].parsed }))
    .sort((a, b) => b.ms - a.ms).slice(0, Number(opt.top)),
}
console.log(JSON.stringify(out, null, 2))

// ---------------------------------------------------------------- helpers

function median (xs) {
  const v = [...xs].sort((a, b) => a - b)
  const m = v.length >> 1
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2
}
function mb (n) { return Math.round(n / 1024 / 1024 * 10) / 10 }
/** objects with sorted keys (arrays keep their order: it is meaningful) */
function sortKeys (v) {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v === null || typeof v !== 'object') return v
  return Object.fromEntries(Object.keys(v).sort().map(k => [k, sortKeys(v[k])]))
}
