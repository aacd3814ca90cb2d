// Crashes during the write: an install killed with SIGKILL at several
// moments of the node_modules swap, and crash states laid out by hand, must
// all be recovered by the next `safe-install ci` into a complete tree.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { diffTrees, snapshotTree } from '../../helpers/tree.js'
import {
  describeRun, expectCompleteTree, pkg, runJson, setup, spawnCli, type Fixture,
} from './helpers.js'

const PREVIOUS = '.safe-install-previous-node_modules'
const JOURNAL = '.safe-install-swap.json'

// each test spawns npm and the CLI several times: allow for a loaded machine
vi.setConfig({ testTimeout: 180_000 })

const fixtures: Fixture[] = []
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map(f => f.cleanup()))
})

/** 40 packages: p00..p39, each p(i) depending on p(i+20) for i < 20; a few files each. */
function bigTree (version: string): ReturnType<typeof pkg>[] {
  const out = []
  for (let i = 0; i < 40; i++) {
    const name = `p${String(i).padStart(2, '0')}`
    const deps = i < 20 ? { [`p${String(i + 20).padStart(2, '0')}`]: `^${version}` } : undefined
    const extra: Record<string, string> = {}
    for (let j = 0; j < 8; j++) extra[`lib/file${j}.js`] = `// ${name}@${version} file ${j}\n` + 'x'.repeat(2000) + '\n'
    out.push(pkg(name, version, deps, extra))
  }
  return out
}

function rootDeps (version: string): Record<string, string> {
  const deps: Record<string, string> = {}
  for (let i = 0; i < 20; i++) deps[`p${String(i).padStart(2, '0')}`] = `^${version}`
  return deps
}

/**
 * Spawns `ci`, polls every millisecond until `when` holds, then SIGKILLs it.
 * Returns whether the kill landed before the process finished on its own.
 */
async function killWhen (f: Fixture, when: () => boolean): Promise<{ killed: boolean, output: string }> {
  const child = spawnCli('ci', f.proj)
  let killed = false
  let finished = false
  void child.exited.then(() => { finished = true })
  await new Promise<void>(resolve => {
    const timer = setInterval(() => {
      if (finished) { clearInterval(timer); resolve(); return }
      if (when()) {
        killed = child.kill('SIGKILL')
        clearInterval(timer)
        resolve()
      }
    }, 1)
  })
  await child.exited
  return { killed: killed && child.signalCode === 'SIGKILL', output: child.output() }
}

describe('an install killed with SIGKILL during the write', () => {
  it('is recovered by the next ci, whenever the kill lands', async () => {
    const f = await setup(bigTree('1.0.0'), rootDeps('1.0.0'))
    fixtures.push(f)
    const dir = f.proj.dir
    await f.relock()
    const first = await runJson('ci', f.proj)
    expect(first.code, describeRun(first)).toBe(0)

    // the new lockfile: every package moves to 1.1.0
    for (const p of bigTree('1.1.0')) await f.reg.publish(p)
    f.setDependencies(rootDeps('1.1.0'))
    const lockfile = await f.relock()

    const journal = join(dir, JOURNAL)
    const previous = join(dir, PREVIOUS)
    const landed: string[] = []

    // 1. as soon as the swap journal is written
    const a = await killWhen(f, () => existsSync(journal))
    if (a.killed) landed.push('journal written')
    else expect.fail(`the install finished before the journal was seen:\n${a.output}`)

    // 2. while reify is writing the new node_modules (old tree moved aside)
    const b = await killWhen(f, () => existsSync(journal) && existsSync(previous) && existsSync(join(dir, 'node_modules', 'p05')))
    if (b.killed) {
      landed.push('mid-reify')
      expect(existsSync(previous)).toBe(true)
    }

    // 3. after the commit point (journal removed) while the old tree is being deleted
    let sawJournal = false
    const c = await killWhen(f, () => {
      if (existsSync(journal)) { sawJournal = true; return false }
      return sawJournal && existsSync(previous)
    })
    if (c.killed) landed.push('after commit')

    const r = await runJson('ci', f.proj)
    expect(r.code, describeRun(r)).toBe(0)
    expectCompleteTree(dir, lockfile)
    // the install record was written for the new tree
    const record = JSON.parse(readFileSync(join(dir, 'node_modules', '.safe-install', 'record.cdx.json'), 'utf8'))
    expect(JSON.stringify(record)).toContain('p39@1.1.0')
    // at least the first kill must have landed for this test to mean anything
    expect(landed).toContain('journal written')
    console.log(`SIGKILL landed at: ${landed.join(', ')}`)
  })
})

describe('crash states laid out by hand', () => {
  it('are recovered by ci: a first install killed mid-way, then a swap killed mid-way, then one killed after its commit point', async () => {
    const f = await setup([
      pkg('beta', '1.0.0'),
      pkg('alpha', '1.0.0', { beta: '^1.0.0' }),
      pkg('gamma', '1.0.0'),
    ], { alpha: '^1.0.0', gamma: '^1.0.0' })
    fixtures.push(f)
    const lockfile = await f.relock()
    const dir = f.proj.dir
    const nm = join(dir, 'node_modules')

    // 1. a first install killed mid-reify: journal, no old tree, a partial new one
    mkdirSync(join(nm, 'alpha'), { recursive: true })
    writeFileSync(join(nm, 'alpha', 'package.json'), '{"name":"alpha","version":"1.0.0"}')
    writeFileSync(join(dir, JOURNAL), JSON.stringify({ dirs: [dir] }))
    const r1 = await runJson('ci', f.proj)
    expect(r1.code, describeRun(r1)).toBe(0)
    expectCompleteTree(dir, lockfile)

    // 2. a swap killed mid-reify: the good old tree moved aside, a half-written one in its place
    cpSync(nm, join(dir, PREVIOUS), { recursive: true })
    rmSync(join(nm, 'gamma'), { recursive: true, force: true })
    rmSync(join(nm, 'beta', 'index.js'))
    writeFileSync(join(nm, 'alpha', 'package.json'), '{"name":"alpha","vers')
    mkdirSync(join(nm, '.alpha-x1y2z3'))
    writeFileSync(join(dir, JOURNAL), JSON.stringify({ dirs: [dir] }))
    // verify writes nothing: the crash state stays as it is
    const before = snapshotTree(dir)
    const v = await runJson('verify', f.proj)
    expect(v.code, describeRun(v)).toBe(0)
    expect(diffTrees(before, snapshotTree(dir))).toEqual([])
    const r2 = await runJson('ci', f.proj)
    expect(r2.code, describeRun(r2)).toBe(0)
    expect(r2.json.recovered.join('\n')).toMatch(/restored .*node_modules/)
    expectCompleteTree(dir, lockfile)
    expect(existsSync(join(nm, '.alpha-x1y2z3'))).toBe(false)

    // 3. killed after the commit point (journal gone) while deleting the old tree
    cpSync(nm, join(dir, PREVIOUS), { recursive: true })
    writeFileSync(join(dir, PREVIOUS, 'gamma', 'index.js'), 'stale\n')
    const r3 = await runJson('ci', f.proj)
    expect(r3.code, describeRun(r3)).toBe(0)
    expect(r3.json.recovered).toEqual([])
    expectCompleteTree(dir, lockfile)
  })
})
