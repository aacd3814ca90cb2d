#!/usr/bin/env node
// Opt-in fidelity check against the registry configured on this machine:
// for each corpus project, `safe-install ci` and `npm ci --ignore-scripts`
// on copies of the same lockfile must produce the same set of
// (path, name, version), the same node_modules/.bin links, and a hidden
// lockfile that `npm ls` accepts as npm's own.
// Usage: npm run fidelity [-- small medium large]
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..')
const corpus = process.env.SAFE_INSTALL_CORPUS ?? path.resolve(repo, '..', 'shared', 'corpus')
const names = process.argv.slice(2).length ? process.argv.slice(2) : ['small', 'medium', 'large']
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'si-fidelity-'))
const cache = path.join(work, 'cache')

function copyProject (name, as) {
  const dir = path.join(work, as)
  fs.mkdirSync(dir, { recursive: true })
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(corpus, name, f), path.join(dir, f))
  return dir
}

function inventory (dir) {
  const out = new Set()
  const walk = (nm, rel) => {
    let names
    try { names = fs.readdirSync(nm) } catch { return }
    for (const n of names) {
      if (n.startsWith('.')) continue
      if (n.startsWith('@')) { for (const s of fs.readdirSync(path.join(nm, n))) visit(path.join(nm, n, s), `${rel}${n}/${s}`); continue }
      visit(path.join(nm, n), rel + n)
    }
  }
  const visit = (p, rel) => {
    let pkg
    try { pkg = JSON.parse(fs.readFileSync(path.join(p, 'package.json'), 'utf8')) } catch { return }
    out.add(`${rel} ${pkg.name}@${pkg.version}`)
    walk(path.join(p, 'node_modules'), `${rel}/node_modules/`)
  }
  walk(path.join(dir, 'node_modules'), 'node_modules/')
  return out
}

function bins (dir) {
  const b = path.join(dir, 'node_modules', '.bin')
  let names = []
  try { names = fs.readdirSync(b) } catch {}
  return new Set(names.map(n => `${n} -> ${fs.readlinkSync(path.join(b, n))}`))
}

function diffSets (a, b) {
  return { onlySafeInstall: [...a].filter(x => !b.has(x)), onlyNpm: [...b].filter(x => !a.has(x)) }
}

function timed (cmd, args, cwd) {
  const t = process.hrtime.bigint()
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } })
  const ms = Number(process.hrtime.bigint() - t) / 1e6
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}\n${r.stdout}`)
  return { ms, out: r.stdout }
}

let failed = false
for (const name of names) {
  const si = copyProject(name, `${name}-si`)
  const npm = copyProject(name, `${name}-npm`)
  const siRun = timed(process.execPath, [path.join(repo, 'bin', 'safe-install.js'), 'ci', '--cache', cache], si)
  const npmRun = timed('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--cache', cache], npm)
  const inv = diffSets(inventory(si), inventory(npm))
  const bin = diffSets(bins(si), bins(npm))
  // npm must read our tree as its own
  const ls = spawnSync('npm', ['ls', '--all', '--json'], { cwd: si, encoding: 'utf8' })
  let lsProblems = []
  try { lsProblems = JSON.parse(ls.stdout).problems ?? [] } catch { lsProblems = ['npm ls output unreadable'] }
  const ok = !inv.onlySafeInstall.length && !inv.onlyNpm.length && !bin.onlySafeInstall.length && !bin.onlyNpm.length && !lsProblems.length
  failed ||= !ok
  console.log(JSON.stringify({
    project: name,
    packages: inventory(si).size,
    bins: bins(si).size,
    same: ok,
    inventoryDiff: inv,
    binDiff: bin,
    npmLsProblems: lsProblems.slice(0, 10),
    safeInstallMs: Math.round(siRun.ms),
    npmMs: Math.round(npmRun.ms),
  }))
}
fs.rmSync(work, { recursive: true, force: true })
process.exitCode = failed ? 1 : 0
