#!/usr/bin/env node
// Install benchmark: `safe-install ci` against `npm ci` (and pnpm / bun when
// they are available) on copies of the shared corpus projects.
// Usage: npm run bench [-- --projects small,medium --runs 3 --cases cold,warm,resolved,noop]
// See bench/README.md. Plain Node ESM, no dependencies.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..')
const siBin = path.join(repo, 'bin', 'safe-install.js')
const ALL_CASES = ['cold', 'warm', 'resolved', 'noop']
const ALL_TOOLS = ['safe-install', 'npm', 'pnpm', 'bun']
const PEERS = new Set(['pnpm', 'bun'])
const NPM_FLAGS = ['--ignore-scripts', '--no-audit', '--no-fund']

const USAGE = `usage: node bench/run.mjs [options]
  --projects a,b      corpus projects (default medium,large; also small)
  --runs N            measured runs per case after one warm-up (default 3)
  --cases a,b         cold,warm,resolved,noop (default all)
  --tools a,b         safe-install,npm,pnpm,bun (default all that are available)
  --out FILE          JSON results (default bench/results/<timestamp>.json)
  --install-peers     npm i --prefix <tmp>/peers @pnpm/exe bun, then use them
  --tmp DIR           work folder (default $TMPDIR/safe-install-bench)
  --corpus DIR        corpus folder (default ../shared/corpus, or $SAFE_INSTALL_CORPUS)
  --clear MODE        how the state a run must not find is cleared before it: set-aside
                      (default: renamed into <work>/aside, all removed at the end) or remove
  --keep              keep the project copies and caches after the run`

let opt
try {
  opt = parseArgs({
    options: {
      projects: { type: 'string', default: 'medium,large' },
      runs: { type: 'string', default: '3' },
      cases: { type: 'string', default: ALL_CASES.join(',') },
      tools: { type: 'string', default: ALL_TOOLS.join(',') },
      out: { type: 'string' },
      tmp: { type: 'string' },
      corpus: { type: 'string' },
      'install-peers': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      clear: { type: 'string', default: 'set-aside' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values
} catch (err) {
  console.error(`${err.message}\n${USAGE}`)
  process.exit(2)
}
if (opt.help) { console.log(USAGE); process.exit(0) }
if (!['set-aside', 'remove'].includes(opt.clear)) { console.error(`--clear must be set-aside or remove\n${USAGE}`); process.exit(2) }

const log = (msg) => process.stderr.write(`${msg}\n`)
const die = (msg) => { log(`bench: ${msg}`); process.exit(2) }
const list = (s) => s.split(',').map(x => x.trim()).filter(Boolean)

const runs = Number(opt.runs)
if (!Number.isInteger(runs) || runs < 1) die(`--runs must be a positive integer, got ${opt.runs}`)
const cases = list(opt.cases)
for (const c of cases) if (!ALL_CASES.includes(c)) die(`unknown case ${c} (known: ${ALL_CASES.join(', ')})`)
const wantTools = list(opt.tools)
for (const t of wantTools) if (!ALL_TOOLS.includes(t)) die(`unknown tool ${t} (known: ${ALL_TOOLS.join(', ')})`)
const corpus = path.resolve(opt.corpus ?? process.env.SAFE_INSTALL_CORPUS ?? path.join(repo, '..', 'shared', 'corpus'))
const projects = list(opt.projects)
for (const p of projects) {
  if (!fs.existsSync(path.join(corpus, p, 'package-lock.json'))) die(`no project ${p} in ${corpus}`)
}
const fillResolved = path.join(corpus, 'fill-resolved.mjs')
const root = path.resolve(opt.tmp ?? path.join(os.tmpdir(), 'safe-install-bench'))
if (root === corpus || root.startsWith(corpus + path.sep)) die('--tmp must not be inside the corpus folder')
fs.mkdirSync(root, { recursive: true })
const work = fs.mkdtempSync(path.join(root, 'run-'))
const outFile = path.resolve(opt.out ?? path.join(repo, 'bench', 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`))

// Children get our environment minus what `npm run` adds for its script, so
// that `npm run bench` and `node bench/run.mjs` measure the same thing.
const childEnv = { ...process.env, CI: '1' }
for (const k of Object.keys(childEnv)) {
  if (/^npm_(lifecycle_|package_|command$|execpath$|node_execpath$|config_local_prefix$|config_user_agent$)/.test(k) || k === 'INIT_CWD') delete childEnv[k]
}

// ---------------------------------------------------------------- helpers

function onPath (name, extra = []) {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), ...extra]) {
    if (!dir) continue
    const f = path.join(dir, name)
    try { fs.accessSync(f, fs.constants.X_OK); if (fs.statSync(f).isFile()) return f } catch {}
  }
  return null
}

const rm = (p) => fs.rmSync(p, { recursive: true, force: true, maxRetries: 3 })
// A tree removed between timed runs frees thousands of inodes, and on ext4
// without a journal every later mkdir in the same group scans past the ones
// freed in the last minute or more (bench/README.md): the next run of any
// tool pays for the previous one's removal. Set aside, nothing is freed
// until the whole benchmark has run.
let asideCount = 0
const clear = (p) => {
  if (opt.clear === 'remove') return rm(p)
  if (!fs.existsSync(p)) return
  fs.mkdirSync(path.join(work, 'aside'), { recursive: true })
  fs.renameSync(p, path.join(work, 'aside', String(++asideCount)))
}
const redact = (s) => String(s).replace(/\b(https?:)\/\/[^\s/'"]+/g, '$1//<host>')
const tail = (s, n = 40) => s.trimEnd().split('\n').slice(-n).join('\n')
const readText = (f) => { try { return fs.readFileSync(f, 'utf8') } catch { return '' } }

function median (xs) {
  const v = xs.filter(x => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (!v.length) return null
  const m = v.length >> 1
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2
}

/** Untimed helper command; throws with its output on failure. */
function run (argv, cwd, what) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd, env: childEnv, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 })
  if (r.status !== 0) {
    const err = new Error(`${what} failed (${r.error?.message ?? (r.signal ? `signal ${r.signal}` : `exit ${r.status}`)})`)
    err.output = tail(`${r.stderr ?? ''}\n${r.stdout ?? ''}`)
    throw err
  }
  return r.stdout
}

function version (argv) {
  try { return run(argv, os.tmpdir(), 'version').trim().split('\n').pop() } catch { return null }
}

// ------------------------------------------------------- timing the child

// GNU time gives wall, user, sys and peak RSS of the child (user+sys include
// every process it waited for; peak RSS is the largest single process). Bash's
// `time` keyword gives CPU but not RSS; without either we only have wall time.
function detectTimer () {
  const forced = process.env.BENCH_TIMER // testing the fallbacks: bash-time or wall-only
  if (forced === 'wall-only' || (forced === 'bash-time' && onPath('bash'))) return { kind: forced, bin: onPath('bash') }
  const probe = path.join(work, 'time-probe')
  for (const bin of new Set(['/usr/bin/time', onPath('time')].filter(Boolean))) {
    const r = spawnSync(bin, ['-o', probe, '-f', '%e %U %S %M', 'true'], { stdio: 'ignore' })
    if (r.status === 0 && /^[\d.]+ [\d.]+ [\d.]+ \d+$/.test(readText(probe).trim())) return { kind: 'gnu-time', bin }
  }
  const bash = onPath('bash')
  if (bash) return { kind: 'bash-time', bin: bash }
  return { kind: 'wall-only' }
}

function measure (timer, argv, cwd, files) {
  const outFd = fs.openSync(files.out, 'w')
  const errFd = fs.openSync(files.err, 'w')
  rm(files.time)
  let cmd = argv[0]
  let args = argv.slice(1)
  if (timer.kind === 'gnu-time') {
    cmd = timer.bin
    args = ['-o', files.time, '-f', '%e %U %S %M', ...argv]
  } else if (timer.kind === 'bash-time') {
    cmd = timer.bin
    args = ['-c', 'TIMEFORMAT="%R %U %S"; { time "$@" 2>&3 3>&- ; } 3>&2 2>"$BENCH_TIME_FILE"', 'bench', ...argv]
  }
  const start = process.hrtime.bigint()
  const r = spawnSync(cmd, args, {
    cwd,
    env: timer.kind === 'bash-time' ? { ...childEnv, BENCH_TIME_FILE: files.time } : childEnv,
    stdio: ['ignore', outFd, errFd],
  })
  const wallS = Number(process.hrtime.bigint() - start) / 1e9
  fs.closeSync(outFd)
  fs.closeSync(errFd)
  // GNU time writes "Command exited with non-zero status N" before the numbers.
  const nums = readText(files.time).trim().split('\n').pop()?.trim().split(/\s+/).map(Number) ?? []
  const userS = timer.kind === 'wall-only' ? null : (nums[1] ?? null)
  const sysS = timer.kind === 'wall-only' ? null : (nums[2] ?? null)
  const rssKB = timer.kind === 'gnu-time' ? (nums[3] ?? null) : null
  return {
    wallS: round(wallS, 3),
    userS,
    sysS,
    cpuS: userS != null && sysS != null ? round(userS + sysS, 2) : null,
    maxRssMB: rssKB != null ? round(rssKB / 1024, 1) : null,
    exitCode: r.status,
    signal: r.signal ?? null,
    spawnError: r.error?.message ?? null,
  }
}

function round (x, d) { const f = 10 ** d; return Math.round(x * f) / f }

// ---------------------------------------------------------------- tools

function findTools () {
  const peerBin = path.join(root, 'peers', 'node_modules', '.bin')
  const want = new Set(wantTools)
  if (opt['install-peers'] && (want.has('pnpm') || want.has('bun'))) {
    log(`installing pnpm and bun into ${path.join(root, 'peers')} ...`)
    const r = spawnSync('npm', ['i', '--prefix', path.join(root, 'peers'), ...NPM_FLAGS.slice(1), '@pnpm/exe', 'bun'], { env: childEnv, stdio: ['ignore', 2, 2] })
    if (r.status !== 0) log('note: could not install @pnpm/exe and bun (see above); pnpm and bun are skipped unless found on PATH')
  }
  const tools = []
  if (want.has('safe-install')) {
    if (!fs.existsSync(path.join(repo, 'dist', 'cli', 'main.js'))) die('safe-install is not built: run `npm run build` (or `npm run bench`)')
    tools.push({ id: 'safe-install', bin: siBin, version: version([process.execPath, siBin, '--version']) })
  }
  if (want.has('npm')) {
    const bin = onPath('npm')
    if (!bin) die('npm not found on PATH')
    tools.push({ id: 'npm', bin, version: version([bin, '--version']) })
  }
  for (const id of ['pnpm', 'bun']) {
    if (!want.has(id)) continue
    const bin = onPath(id, [peerBin])
    const v = bin && version([bin, '--version'])
    if (!bin || !v) { log(`note: ${id} not found on PATH or in ${peerBin}${bin ? ' (or it does not run)' : ''}; skipped (try --install-peers)`); continue }
    tools.push({ id, bin, version: v })
  }
  return tools
}

/**
 * Per project and tool: a project copy without and one with `resolved`, and
 * the tool's own cache, so tools never share or warm each other's caches.
 */
function toolSetup (tool, pdir) {
  const base = path.join(pdir, tool.id)
  const t = { ...tool, plain: path.join(base, 'plain'), resolved: path.join(base, 'resolved'), caches: [] }
  const C = path.join(base, 'cache')
  switch (tool.id) {
    case 'safe-install': {
      t.caches = [C]
      const si = (cmd) => [process.execPath, tool.bin, cmd, '--cache', C, '--json']
      t.ci = { argv: si('ci'), show: 'node bin/safe-install.js ci --cache <cache> --json' }
      t.noop = [
        { id: 'safe-install install', argv: si('install'), show: 'node bin/safe-install.js install --cache <cache> --json' },
        { id: 'safe-install verify', argv: si('verify'), show: 'node bin/safe-install.js verify --cache <cache> --json' },
      ]
      break
    }
    case 'npm': {
      t.caches = [C]
      t.ci = { argv: [tool.bin, 'ci', ...NPM_FLAGS, '--cache', C], show: `npm ci ${NPM_FLAGS.join(' ')} --cache <cache>` }
      t.noop = [{ id: 'npm install', argv: [tool.bin, 'install', ...NPM_FLAGS, '--cache', C], show: `npm install ${NPM_FLAGS.join(' ')} --cache <cache>` }]
      break
    }
    case 'pnpm': {
      const S = path.join(base, 'store')
      t.caches = [S, C]
      const dirs = ['--store-dir', S, `--config.cache-dir=${C}`]
      const argv = [tool.bin, 'install', '--frozen-lockfile', '--ignore-scripts', '--config.node-linker=hoisted', ...dirs]
      const show = 'pnpm install --frozen-lockfile --ignore-scripts --config.node-linker=hoisted --store-dir <store> --config.cache-dir=<cache>'
      t.ci = { argv, show }
      t.noop = [{ id: 'pnpm install', argv, show }]
      // once per copy: pnpm-lock.yaml from package-lock.json
      t.prepare = (dir) => {
        if (!fs.existsSync(path.join(dir, 'pnpm-lock.yaml'))) run([tool.bin, 'import', ...dirs], dir, 'pnpm import')
      }
      break
    }
    case 'bun': {
      t.caches = [C]
      const argv = [tool.bin, 'install', '--frozen-lockfile', '--ignore-scripts', '--cache-dir', C]
      const show = 'bun install --frozen-lockfile --ignore-scripts --cache-dir <cache>'
      t.ci = { argv, show }
      t.noop = [{ id: 'bun install', argv, show }]
      // once per copy: bun.lock migrated from package-lock.json and kept (a
      // frozen install migrates too, but does not save the result)
      t.prepare = (dir) => {
        if (fs.existsSync(path.join(dir, 'bun.lock')) || fs.existsSync(path.join(dir, 'bun.lockb'))) return
        try { run([tool.bin, 'pm', 'migrate'], dir, 'bun pm migrate') } catch (err) {
          log(`  note: ${err.message}; falling back to bun install --lockfile-only`)
          run([tool.bin, 'install', '--lockfile-only', '--ignore-scripts', '--cache-dir', C], dir, 'bun install --lockfile-only')
        }
      }
      break
    }
  }
  return t
}

function copyProject (src, dest) {
  fs.mkdirSync(dest, { recursive: true })
  for (const f of ['package.json', 'package-lock.json']) {
    fs.copyFileSync(path.join(src, f), path.join(dest, f))
    fs.chmodSync(path.join(dest, f), 0o644) // the corpus is read-only; npm install may rewrite these
  }
}

// ---------------------------------------------------------------- cases

const REF = { ci: 'npm', noop: 'npm install' }

function runCase (project, caseName, tools, timer, results, errors) {
  const tag = `[${project}/${caseName}]`
  const kindDir = caseName === 'resolved' ? 'resolved' : 'plain'
  let entries = []
  for (const t of tools) {
    const dir = t[kindDir]
    const ids = caseName === 'noop' ? t.noop : [{ id: t.id, ...t.ci }]
    for (const c of ids) {
      entries.push({
        id: c.id,
        tool: t,
        dir,
        argv: c.argv,
        show: c.show,
        before: () => {
          if (caseName === 'noop') return
          clear(path.join(dir, 'node_modules'))
          if (caseName === 'cold') for (const cache of t.caches) clear(cache)
        },
        runs: [],
        timings: [],
      })
    }
  }

  const fail = (e, what, output) => {
    const peer = PEERS.has(e.tool.id)
    log(`${tag} ${e.id}: ${what}${peer ? ` — ${e.tool.id} dropped from this case` : ' — case aborted'}`)
    if (output) log(output.split('\n').map(l => `    | ${l}`).join('\n'))
    errors.push({ project, case: caseName, tool: e.id, error: redact(what), output: redact(output ?? '') })
    if (peer) { entries = entries.filter(x => x.tool !== e.tool); return false }
    return true
  }

  // noop: the tree must already match the lockfile (untimed install first)
  if (caseName === 'noop') {
    for (const t of tools) {
      if (fs.existsSync(path.join(t.plain, 'node_modules'))) continue
      log(`${tag} setup: ${t.id} installs node_modules (untimed)`)
      try { run(t.ci.argv, t.plain, `${t.id} setup install`) } catch (err) {
        const e = entries.find(x => x.tool === t)
        if (fail(e, err.message, err.output)) return
      }
    }
  }

  for (let round = 0; round <= runs; round++) {
    const label = round === 0 ? 'warm-up' : `run ${round}/${runs}`
    for (const e of [...entries]) {
      if (!entries.includes(e)) continue
      e.before()
      spawnSync('sync') // flush the previous command's writes before timing this one
      const base = path.join(e.dir, '..', `${caseName}-${e.id.replace(/\W+/g, '-')}`)
      const files = { out: `${base}.stdout`, err: `${base}.stderr`, time: `${base}.time` }
      const m = measure(timer, e.argv, e.dir, files)
      const cpu = m.cpuS != null ? ` cpu ${m.cpuS.toFixed(2)}s` : ''
      const rss = m.maxRssMB != null ? ` rss ${Math.round(m.maxRssMB)}MB` : ''
      log(`${tag} ${label} ${e.id}: ${m.wallS.toFixed(2)}s${cpu}${rss}${m.exitCode === 0 ? '' : ` FAILED (exit ${m.exitCode ?? m.signal})`}`)
      if (m.exitCode !== 0 || m.spawnError) {
        const what = m.spawnError ? `could not run: ${m.spawnError}` : `exited with ${m.exitCode ?? `signal ${m.signal}`} in ${label}`
        if (fail(e, what, tail(`${readText(files.err)}\n${readText(files.out)}`))) return
        continue
      }
      if (round === 0) continue
      e.runs.push(m)
      if (e.tool.id === 'safe-install') {
        try { e.timings.push(JSON.parse(readText(files.out)).timings ?? null) } catch { e.timings.push(null) }
      }
    }
  }

  const ref = entries.find(x => x.id === REF[caseName === 'noop' ? 'noop' : 'ci'])
  const packages = Object.keys(JSON.parse(fs.readFileSync(path.join(corpus, project, 'package-lock.json'), 'utf8')).packages ?? {}).filter(Boolean).length
  for (const e of entries) {
    const ratios = ref ? e.runs.map((m, i) => ref.runs[i] ? m.wallS / ref.runs[i].wallS : null) : []
    const row = {
      project,
      packages,
      case: caseName,
      tool: e.id,
      version: e.tool.version,
      command: e.show,
      n: e.runs.length,
      median: {
        wallS: median(e.runs.map(m => m.wallS)),
        cpuS: median(e.runs.map(m => m.cpuS)),
        maxRssMB: median(e.runs.map(m => m.maxRssMB)),
      },
      wallRatioVsNpm: ref ? round(median(ratios), 3) : null,
      ratioReference: ref ? ref.id : null,
      runs: e.runs,
    }
    if (e.tool.id === 'safe-install') {
      row.safeInstallTimingsMs = { lastRun: e.timings.at(-1) ?? null, median: medianTimings(e.timings) }
    }
    results.push(row)
  }
}

function medianTimings (list) {
  const ok = list.filter(Boolean)
  if (!ok.length) return null
  const phases = [...new Set(ok.flatMap(t => Object.keys(t)))]
  return Object.fromEntries(phases.map(p => [p, median(ok.map(t => t[p]))]))
}

// ---------------------------------------------------------------- report

function table (rows) {
  const head = ['project', 'case', 'tool', 'n', 'wall s', 'cpu s', 'rss MB', 'wall vs npm']
  const fmt = (x, d) => x == null ? '-' : x.toFixed(d)
  const body = rows.map(r => [
    r.project, r.case, r.tool, String(r.n),
    fmt(r.median.wallS, 2), fmt(r.median.cpuS, 2), fmt(r.median.maxRssMB, 0),
    r.wallRatioVsNpm == null ? '-' : `${r.wallRatioVsNpm.toFixed(2)}x`,
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map(b => b[i].length)))
  const right = new Set([3, 4, 5, 6, 7])
  const line = (cells) => cells.map((c, i) => right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])).join('  ').trimEnd()
  const out = [line(head), line(widths.map(w => '-'.repeat(w))), ...body.map(line)]
  const phases = rows.filter(r => r.safeInstallTimingsMs?.lastRun)
  if (phases.length) {
    out.push('', 'safe-install phases, last run (ms):')
    for (const r of phases) {
      out.push(`  ${r.project}/${r.case} ${r.tool}: ${Object.entries(r.safeInstallTimingsMs.lastRun).map(([k, v]) => `${k} ${v}`).join(', ')}`)
    }
  }
  return out.join('\n')
}

// ---------------------------------------------------------------- main

const timer = detectTimer()
if (timer.kind !== 'gnu-time') log(`note: ${process.env.BENCH_TIMER ? 'BENCH_TIMER set' : 'GNU time not found'} (${timer.kind}): ${timer.kind === 'bash-time' ? 'no peak RSS' : 'no CPU time or peak RSS'}; apt-get install time adds them`)
const tools = findTools()
log(`work folder ${work}; tools: ${tools.map(t => `${t.id} ${t.version ?? '?'}`).join(', ')}; timer: ${timer.kind}; between runs: ${opt.clear}`)

const results = []
const errors = []
const started = new Date()
for (const project of projects) {
  const pdir = path.join(work, project)
  const src = path.join(corpus, project)
  let ptools = tools.map(t => toolSetup(t, pdir))
  // project copies (and the resolved variant) before anything is timed
  let resolvedOk = true
  if (cases.includes('resolved')) {
    const filled = path.join(pdir, 'resolved-lockfile')
    copyProject(src, filled)
    try { run([process.execPath, fillResolved, filled], filled, 'fill-resolved.mjs') } catch (err) {
      resolvedOk = false
      log(`[${project}] ${err.message}; resolved case skipped\n${err.output}`)
      errors.push({ project, case: 'resolved', tool: null, error: redact(err.message), output: redact(err.output) })
    }
    if (resolvedOk) for (const t of ptools) copyProject(filled, t.resolved)
  }
  for (const t of ptools) copyProject(src, t.plain)
  for (const t of [...ptools]) {
    if (!t.prepare) continue
    try {
      t.prepare(t.plain)
      if (cases.includes('resolved') && resolvedOk) t.prepare(t.resolved)
    } catch (err) {
      log(`[${project}] ${err.message}; ${t.id} skipped for this project\n${err.output ?? ''}`)
      errors.push({ project, case: null, tool: t.id, error: redact(err.message), output: redact(err.output ?? '') })
      ptools = ptools.filter(x => x !== t)
    }
  }
  for (const c of cases) {
    if (c === 'resolved' && !resolvedOk) continue
    const before = results.length
    runCase(project, c, ptools, timer, results, errors)
    if (results.length > before) log(`\n${table(results.slice(before))}\n`)
  }
  if (!opt.keep) clear(pdir)
}

const report = {
  meta: {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memoryGB: round(os.totalmem() / 2 ** 30, 1),
    timer: timer.kind,
    clear: opt.clear,
    runs,
    warmupRuns: 1,
    projects,
    cases,
    tools: Object.fromEntries(tools.map(t => [t.id, t.version])),
  },
  results,
  errors,
}
fs.mkdirSync(path.dirname(outFile), { recursive: true })
fs.writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n')
if (!opt.keep) rm(work)
else log(`kept ${work}`)

console.log(table(results))
const shown = path.relative(process.cwd(), outFile)
log(`\nresults written to ${shown && !shown.startsWith('..') ? shown : outFile}`)
if (errors.length) {
  log(`${errors.length} problem(s): ${errors.map(e => `${e.project}/${e.case ?? '-'} ${e.tool ?? ''}: ${e.error}`).join('; ')}`)
  process.exitCode = 1
}
