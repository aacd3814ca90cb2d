#!/usr/bin/env node
// What the publishing-evidence checks cost on a whole install (issue 3): cold
// `safe-install ci` of a corpus project against the fixture registry, where
// EVERY package has a registry signature, SLSA provenance and a publish
// attestation (made by the test Sigstore PKI), with the default checks vs
// with them off. The goal: evidence makes it at most 10% slower.
//
// Usage: node bench/evidence-fixture.mjs [--runs 3] [--project large] [--build head|worktree|dist]
// See bench/README.md ("Evidence cost on the fixture registry").
// Plain Node ESM; the fixture registry (TypeScript under test/) and, by
// default, safe-install as committed (HEAD) are compiled with the
// repository's own tsc into node_modules/.cache first, so a dist/ rebuilt
// by someone else during the runs cannot change what is measured.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { createRequire } from 'node:module'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..')
const require = createRequire(import.meta.url)

const USAGE = `usage: node bench/evidence-fixture.mjs [options]
  --project NAME      corpus project (default large: 1,502 packages)
  --runs N            measured cold runs per configuration, after one warm-up each (default 3)
  --root KIND         trusted root for --trusted-root: public-good (the public-good CAs and logs
                      plus the test ones, default) or test (the test PKI only)
  --corpus DIR        corpus folder (default ../shared/corpus, or $SAFE_INSTALL_CORPUS)
  --tmp DIR           work folder (default $TMPDIR/safe-install-bench/evidence-fixture); the npm
                      cache of tarballs kept there is reused by later runs
  --build KIND        what to measure: head (lib/ as committed, compiled apart; default),
                      worktree (lib/ as it is now, compiled apart) or dist (the repository's dist/)
  --out FILE          JSON results (default bench/results/evidence-fixture-<timestamp>.json)
  --keep              keep the project copies and caches of the measured runs`

let opt
try {
  opt = parseArgs({
    options: {
      project: { type: 'string', default: 'large' },
      runs: { type: 'string', default: '3' },
      root: { type: 'string', default: 'public-good' },
      build: { type: 'string', default: 'head' },
      corpus: { type: 'string' },
      tmp: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values
} catch (err) {
  console.error(`${err.message}\n${USAGE}`)
  process.exit(2)
}
if (opt.help) { console.log(USAGE); process.exit(0) }

const log = (msg) => process.stderr.write(`${msg}\n`)
const die = (msg) => { log(`bench: ${msg}`); process.exit(2) }
const runs = Number(opt.runs)
if (!Number.isInteger(runs) || runs < 1) die(`--runs must be a positive integer, got ${opt.runs}`)
if (!['public-good', 'test'].includes(opt.root)) die(`--root must be public-good or test, got ${opt.root}`)
if (!['head', 'worktree', 'dist'].includes(opt.build)) die(`--build must be head, worktree or dist, got ${opt.build}`)
if (opt.build === 'dist' && !fs.existsSync(path.join(repo, 'dist', 'cli', 'main.js'))) die('dist/ is missing: run `npm run build` first')
const corpus = path.resolve(opt.corpus ?? process.env.SAFE_INSTALL_CORPUS ?? path.join(repo, '..', 'shared', 'corpus'))
const projectDir = path.join(corpus, opt.project)
if (!fs.existsSync(path.join(projectDir, 'package-lock.json'))) die(`no project ${opt.project} in ${corpus}`)
const root = path.resolve(opt.tmp ?? path.join(os.tmpdir(), 'safe-install-bench', 'evidence-fixture'))
if (root === corpus || root.startsWith(corpus + path.sep)) die('--tmp must not be inside the corpus folder')
fs.mkdirSync(root, { recursive: true })
const outFile = path.resolve(opt.out ?? path.join(repo, 'bench', 'results', `evidence-fixture-${new Date().toISOString().replace(/[:.]/g, '-')}.json`))

const childEnv = { ...process.env, CI: '1' }
for (const k of Object.keys(childEnv)) {
  if (/^npm_(lifecycle_|package_|command$|execpath$|node_execpath$|config_local_prefix$|config_user_agent$)/.test(k) || k === 'INIT_CWD') delete childEnv[k]
}
const rm = (p) => fs.rmSync(p, { recursive: true, force: true, maxRetries: 3 })
const redact = (s) => String(s).replace(/\b(https?:)\/\/[^\s/'"]+/g, '$1//<host>')
const tail = (s, n = 30) => String(s).trimEnd().split('\n').slice(-n).join('\n')
const readText = (f) => { try { return fs.readFileSync(f, 'utf8') } catch { return '' } }
const loadavg = () => os.loadavg().map(x => x.toFixed(2)).join(' ')

function median (xs) {
  const v = xs.filter(x => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (!v.length) return null
  const m = v.length >> 1
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2
}

// ------------------------------------------------ 1. the fixture registry, compiled

function buildFixtures () {
  const out = path.join(repo, 'node_modules', '.cache', 'safe-install-bench', 'fixtures')
  rm(out)
  const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc,
    '--outDir', out, '--rootDir', repo,
    '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
    '--esModuleInterop', '--skipLibCheck', '--resolveJsonModule', '--types', 'node',
    path.join(repo, 'test', 'fixtures', 'registry', 'index.ts'),
  ], { cwd: repo, encoding: 'utf8' })
  if (r.status !== 0) die(`compiling the fixture registry failed:\n${tail(r.stdout + r.stderr)}`)
  // below node_modules the repository's "type": "module" does not apply
  fs.writeFileSync(path.join(out, 'package.json'), '{ "type": "module" }\n')
  return path.join(out, 'test', 'fixtures', 'registry', 'index.js')
}

/** safe-install to measure: bin/safe-install.js of a private build (or of the repository for `dist`) */
function buildSafeInstall () {
  if (opt.build === 'dist') return { bin: path.join(repo, 'bin', 'safe-install.js'), commit: null }
  const out = path.join(repo, 'node_modules', '.cache', 'safe-install-bench', 'safe-install')
  rm(out)
  fs.mkdirSync(out, { recursive: true })
  const files = ['lib', 'bin', 'package.json', 'tsconfig.json']
  if (opt.build === 'head') {
    const r = spawnSync('sh', ['-c', `git archive HEAD ${files.join(' ')} | tar -x -C "$0"`, out], { cwd: repo, encoding: 'utf8' })
    if (r.status !== 0) die(`git archive failed:\n${tail(r.stderr)}`)
  } else {
    for (const f of files) fs.cpSync(path.join(repo, f), path.join(out, f), { recursive: true })
  }
  const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(out, 'tsconfig.json')], { cwd: out, encoding: 'utf8' })
  if (!fs.existsSync(path.join(out, 'dist', 'cli', 'main.js'))) die(`compiling safe-install failed:\n${tail(r.stdout + r.stderr)}`)
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).stdout.trim()
  return { bin: path.join(out, 'bin', 'safe-install.js'), commit: opt.build === 'head' ? commit : `${commit}+worktree` }
}

// ------------------------------------------------ 2. the packages and their bytes

/** unique (name, version, integrity) the lockfile fetches from a registry */
function lockfilePackages () {
  const lock = JSON.parse(fs.readFileSync(path.join(projectDir, 'package-lock.json'), 'utf8'))
  const byIntegrity = new Map()
  for (const [loc, e] of Object.entries(lock.packages ?? {})) {
    if (!loc || e.link || e.inBundle || !e.integrity || !e.version) continue
    const name = e.name ?? loc.slice(loc.lastIndexOf('node_modules/') + 'node_modules/'.length)
    byIntegrity.set(e.integrity, { name, version: e.version, integrity: e.integrity })
  }
  return [...byIntegrity.values()]
}

/**
 * Tarball bytes by integrity from an npm cache of our own; filled once by
 * `npm ci --ignore-scripts` of a copy of the project from the registry npm is
 * configured with (optional packages for other platforms stay absent: npm and
 * safe-install both skip them).
 */
async function tarballs (pkgs) {
  const cacache = require('cacache')
  const cache = path.join(root, 'npm-cache')
  const read = async () => {
    const found = new Map()
    for (const p of pkgs) {
      try { found.set(p.integrity, await cacache.get.byDigest(path.join(cache, '_cacache'), p.integrity)) } catch {}
    }
    return found
  }
  // what npm did not fetch last time (other platforms): no reason to ask again
  const skippedFile = path.join(root, `not-fetched-${opt.project}.json`)
  const skipped = new Set(JSON.parse(readText(skippedFile) || '[]'))
  let found = await read()
  if (pkgs.some(p => !found.has(p.integrity) && !skipped.has(p.integrity))) {
    log(`filling the tarball cache (${pkgs.length - found.size} of ${pkgs.length} missing): npm ci --ignore-scripts in a copy of ${opt.project}`)
    const fill = path.join(root, 'fill')
    rm(fill)
    fs.mkdirSync(fill, { recursive: true })
    for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(projectDir, f), path.join(fill, f))
    const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--cache', cache], { cwd: fill, env: childEnv, encoding: 'utf8', maxBuffer: 64 << 20 })
    if (r.status !== 0) die(`npm ci failed:\n${redact(tail(r.stdout + r.stderr))}`)
    rm(fill)
    found = await read()
    fs.writeFileSync(skippedFile, JSON.stringify(pkgs.filter(p => !found.has(p.integrity)).map(p => p.integrity)))
  }
  return found
}

// ------------------------------------------------ 3. timing a child without blocking the registry

/** runs argv under GNU time (asynchronously: the registry lives in this process) */
function measure (argv, cwd, files) {
  return new Promise((resolve) => {
    const out = fs.openSync(files.out, 'w')
    const err = fs.openSync(files.err, 'w')
    rm(files.time)
    const started = process.hrtime.bigint()
    const child = spawn('/usr/bin/time', ['-o', files.time, '-f', '%e %U %S %M', ...argv], { cwd, env: childEnv, stdio: ['ignore', out, err] })
    child.on('close', (code) => {
      fs.closeSync(out)
      fs.closeSync(err)
      const wallNs = Number(process.hrtime.bigint() - started)
      const line = readText(files.time).trim().split('\n').pop() ?? ''
      const m = /^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/.exec(line)
      resolve({
        code,
        wall: m ? Number(m[1]) : wallNs / 1e9,
        cpu: m ? Number(m[2]) + Number(m[3]) : null,
        rssMB: m ? Math.round(Number(m[4]) / 1024) : null,
      })
    })
  })
}

// ------------------------------------------------ main

const t0 = Date.now()
log(`load average at start: ${loadavg()}`)
const fixtures = await import(pathToFileURL(buildFixtures()).href)
const si = buildSafeInstall()
const siBin = si.bin
log(`measuring safe-install: ${opt.build === 'dist' ? 'the repository\'s dist/' : `${si.commit}, compiled apart`}`)
const pkgs = lockfilePackages()
const bytes = await tarballs(pkgs)
const missing = pkgs.filter(p => !bytes.has(p.integrity))
if (missing.length) log(`${missing.length} lockfile packages not fetched by npm (other platforms): not published, ${missing.slice(0, 5).map(p => `${p.name}@${p.version}`).join(', ')}${missing.length > 5 ? ' ...' : ''}`)

const registry = await fixtures.startRegistry()
const genStart = process.hrtime.bigint()
let published = 0
for (const p of pkgs) {
  const tgz = bytes.get(p.integrity)
  if (!tgz) continue
  // the tarball's own package.json names it; aliases and odd manifests are checked below
  const pub = await registry.publishTarball(tgz, { provenance: true })
  if (pub.name !== p.name || pub.version !== p.version) die(`${p.name}@${p.version}: its tarball says ${pub.name}@${pub.version}`)
  if (pub.integrity !== p.integrity) die(`${p.name}@${p.version}: integrity differs from the lockfile`)
  published++
}
const genSeconds = Number(process.hrtime.bigint() - genStart) / 1e9
const trustedRoot = registry.trustedRootFile({ publicGood: opt.root === 'public-good' })
const rootJson = JSON.parse(fs.readFileSync(trustedRoot, 'utf8'))
log(`published ${published} versions, each signed and with SLSA provenance + a publish attestation (${(published * 2)} bundles) in ${genSeconds.toFixed(1)} s`)
log(`trusted root: ${rootJson.certificateAuthorities.length} certificate authorities, ${rootJson.tlogs.length} transparency logs, ${rootJson.ctlogs.length} CT logs (${opt.root})`)

const work = fs.mkdtempSync(path.join(root, 'run-'))
const CONFIGS = {
  evidence: ['--trusted-root', trustedRoot],
  'no-evidence': ['--signatures', 'off', '--provenance', 'off'],
}
const results = { evidence: [], 'no-evidence': [] }

function prepare (config) {
  const dir = path.join(work, config, 'project')
  const cache = path.join(work, config, 'cache')
  rm(path.join(work, config))
  fs.mkdirSync(dir, { recursive: true })
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(projectDir, f), path.join(dir, f))
  const npmrc = path.join(work, config, 'npmrc')
  fs.writeFileSync(npmrc, `registry=${registry.url}\ncafile=${registry.caFile}\n`)
  return { dir, cache, npmrc }
}

async function once (config, label) {
  const { dir, cache, npmrc } = prepare(config)
  spawnSync('sync')
  const argv = [process.execPath, siBin, 'ci', '--json', '--cache', cache, '--userconfig', npmrc, '--registry', registry.url, ...CONFIGS[config]]
  const base = path.join(work, `${label}-${config}`)
  const files = { out: `${base}.stdout`, err: `${base}.stderr`, time: `${base}.time` }
  const m = await measure(argv, dir, files)
  let report
  try { report = JSON.parse(readText(files.out)) } catch {}
  if (m.code !== 0 || !report) {
    log(`${config} failed (exit ${m.code}):\n${tail(readText(files.err) + '\n' + (report ? JSON.stringify(report.violations?.slice(0, 5), null, 1) : readText(files.out)))}`)
    await registry.stop()
    process.exit(1)
  }
  const tally = (key) => {
    const out = {}
    for (const p of report.packages ?? []) {
      const s = p.evidence?.[key]?.status ?? 'none'
      out[s] = (out[s] ?? 0) + 1
    }
    return out
  }
  const run = { ...m, loadavg: os.loadavg(), signatures: tally('signature'), provenance: tally('provenance'), timings: report.timings }
  const publishAttestations = (report.packages ?? []).filter(p => p.evidence?.provenance?.publishAttestation === 'verified').length
  run.publishAttestationsVerified = publishAttestations
  const unverified = (t) => Object.keys(t).filter(k => k !== 'verified' && k !== 'none')
  if (config === 'evidence' && (unverified(run.signatures).length || unverified(run.provenance).length ||
    !run.provenance.verified || publishAttestations !== run.provenance.verified)) {
    log(`${config}: not every package verified: signatures ${JSON.stringify(run.signatures)}, provenance ${JSON.stringify(run.provenance)}, publish attestations verified ${publishAttestations}`)
    await registry.stop()
    process.exit(1)
  }
  log(`${label} ${config}: wall ${m.wall.toFixed(2)} s, cpu ${m.cpu?.toFixed(2)} s, rss ${m.rssMB} MB; signatures ${JSON.stringify(run.signatures)}, provenance ${JSON.stringify(run.provenance)}, publish attestations verified ${publishAttestations}; load ${loadavg()}`)
  if (!opt.keep) rm(path.join(work, config))
  return run
}

log(`warm-up (not counted): one cold run of each, then ${runs} measured rounds, alternating the order`)
await once('evidence', 'warm-up')
await once('no-evidence', 'warm-up')
for (let i = 0; i < runs; i++) {
  const order = i % 2 === 0 ? ['evidence', 'no-evidence'] : ['no-evidence', 'evidence']
  for (const config of order) results[config].push(await once(config, `run ${i + 1}`))
}
await registry.stop()
if (!opt.keep) rm(work)

const med = (config, key) => median(results[config].map(r => r[key]))
const ratios = results.evidence.map((r, i) => r.wall / results['no-evidence'][i].wall)
const cpuRatios = results.evidence.map((r, i) => r.cpu / results['no-evidence'][i].cpu)
const summary = {
  project: opt.project,
  packages: pkgs.length,
  published,
  root: opt.root,
  build: opt.build,
  commit: si.commit,
  runs,
  generationSeconds: Number(genSeconds.toFixed(2)),
  evidence: { wall: med('evidence', 'wall'), cpu: med('evidence', 'cpu'), rssMB: med('evidence', 'rssMB') },
  noEvidence: { wall: med('no-evidence', 'wall'), cpu: med('no-evidence', 'cpu'), rssMB: med('no-evidence', 'rssMB') },
  wallRatioOfMedians: med('evidence', 'wall') / med('no-evidence', 'wall'),
  medianWallRatio: median(ratios),
  cpuRatioOfMedians: med('evidence', 'cpu') / med('no-evidence', 'cpu'),
  medianCpuRatio: median(cpuRatios),
  loadavgEnd: os.loadavg(),
  cores: os.cpus().length,
  node: process.version,
  minutes: Number(((Date.now() - t0) / 60000).toFixed(1)),
}
fs.mkdirSync(path.dirname(outFile), { recursive: true })
fs.writeFileSync(outFile, JSON.stringify({ summary, results }, null, 2) + '\n')

const f = (x, d = 2) => x === null || x === undefined ? '-' : x.toFixed(d)
console.log(`\n${opt.project}: ${published} versions published (all the lockfile fetches on this platform), cold safe-install ci, median of ${runs} (trusted root: ${opt.root})`)
console.log('config        wall s   cpu s  rss MB')
console.log(`evidence    ${f(summary.evidence.wall).padStart(8)} ${f(summary.evidence.cpu).padStart(7)} ${String(summary.evidence.rssMB).padStart(7)}`)
console.log(`no-evidence ${f(summary.noEvidence.wall).padStart(8)} ${f(summary.noEvidence.cpu).padStart(7)} ${String(summary.noEvidence.rssMB).padStart(7)}`)
console.log(`wall: evidence / no-evidence = ${f(summary.wallRatioOfMedians, 3)} (median of per-round ratios ${f(summary.medianWallRatio, 3)}); goal <= 1.10`)
console.log(`cpu:  evidence / no-evidence = ${f(summary.cpuRatioOfMedians, 3)} (median of per-round ratios ${f(summary.medianCpuRatio, 3)})`)
console.log(`load average at the end: ${loadavg()} (${summary.cores} cores); results in ${path.relative(process.cwd(), outFile)}`)
