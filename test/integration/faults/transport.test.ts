// Transient and persistent registry faults against the real CLI: retried
// faults end in a complete install, persistent ones in ESIFETCH with the
// previous node_modules untouched, and a cut-short body is never installed.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { snapshotTree, diffTrees } from '../../helpers/tree.js'
import {
  describeRun, exactPath, expectCompleteTree, expectNoStack, hits, pkg, run, runJson, setup, tarballPath, type Fixture,
} from './helpers.js'

// each test spawns npm and the CLI several times: allow for a loaded machine
vi.setConfig({ testTimeout: 180_000 })

const fixtures: Fixture[] = []
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map(f => f.cleanup()))
})

/** alpha -> beta, plus gamma: three tarballs. */
async function smallProject (): Promise<{ f: Fixture, lockfile: Record<string, any> }> {
  const f = await setup([
    pkg('beta', '1.0.0'),
    pkg('alpha', '1.0.0', { beta: '^1.0.0' }),
    pkg('gamma', '1.0.0'),
  ], { alpha: '^1.0.0', gamma: '^1.0.0' })
  fixtures.push(f)
  return { f, lockfile: await f.relock() }
}

/**
 * A project installed from a first lockfile (alpha, beta), then relocked to
 * also need delta@1.0.0: delta is the only tarball the next run must fetch.
 */
async function installedThenRelocked (): Promise<{ f: Fixture, lockfile: Record<string, any>, deltaPath: string }> {
  const f = await setup([
    pkg('beta', '1.0.0'),
    pkg('alpha', '1.0.0', { beta: '^1.0.0' }),
  ], { alpha: '^1.0.0' })
  fixtures.push(f)
  await f.relock()
  const first = await runJson('ci', f.proj)
  expect(first.code, describeRun(first)).toBe(0)
  await f.reg.publish(pkg('delta', '1.0.0'))
  f.setDependencies({ alpha: '^1.0.0', delta: '^1.0.0' })
  const lockfile = await f.relock()
  return { f, lockfile, deltaPath: tarballPath('delta', '1.0.0') }
}

describe('transient registry errors are retried', () => {
  it('a tarball answering 500 twice, then 200, installs', async () => {
    const { f, lockfile } = await smallProject()
    const path = tarballPath('alpha', '1.0.0')
    f.reg.failNext(exactPath(path), 2, '500')
    const r = await runJson('ci', f.proj)
    expect(r.code, describeRun(r)).toBe(0)
    expect(r.json.ok).toBe(true)
    expect(hits(f.reg, path)).toBe(3)
    expectCompleteTree(f.proj.dir, lockfile)
  })

  it('a connection reset mid-body once is retried and installs', async () => {
    const { f, lockfile } = await smallProject()
    const path = tarballPath('beta', '1.0.0')
    f.reg.failNext(exactPath(path), 1, 'reset')
    const r = await runJson('ci', f.proj)
    expect(r.code, describeRun(r)).toBe(0)
    expect(hits(f.reg, path)).toBe(2)
    expectCompleteTree(f.proj.dir, lockfile)
  })

  it('a persistent 500 fails with ESIFETCH (exit 4) naming package and host, node_modules untouched', async () => {
    const { f, deltaPath } = await installedThenRelocked()
    f.reg.failNext(exactPath(deltaPath), 50, '500')
    const before = snapshotTree(f.proj.dir)

    const r = await runJson('ci', f.proj)
    expect(r.code, describeRun(r)).toBe(4)
    expect(r.json.ok).toBe(false)
    expect(r.json.exitCode).toBe(4)
    expect(r.json.error.code).toBe('ESIFETCH')
    expect(r.json.error.message).toContain('delta@1.0.0')
    expect(r.json.error.message).toContain(f.host)
    // fetch-retries=2: one try and two retries, then give up
    expect(hits(f.reg, deltaPath)).toBe(3)
    expect(diffTrees(before, snapshotTree(f.proj.dir))).toEqual([])

    // the human rendering says the same, without a stack trace
    const human = await run('ci', f.proj)
    expect(human.code, describeRun(human)).toBe(4)
    expect(human.stderr).toContain('ESIFETCH')
    expect(human.stderr).toContain('delta@1.0.0')
    expect(human.stderr).toContain(f.host)
    expectNoStack(human.stderr)
    expect(diffTrees(before, snapshotTree(f.proj.dir))).toEqual([])
  })
})

describe('a response cut short (Content-Length promises more)', () => {
  it('persistently: never installed, fails with ESIFETCH, node_modules untouched', async () => {
    const { f, deltaPath } = await installedThenRelocked()
    f.reg.failNext(exactPath(deltaPath), 50, 'truncate')
    const before = snapshotTree(f.proj.dir)

    const r = await runJson('ci', f.proj)
    expect(r.code, describeRun(r)).toBe(4)
    expect(r.json.ok).toBe(false)
    expect(r.json.error.code).toBe('ESIFETCH')
    expect(r.json.error.message).toContain('delta@1.0.0')
    expect(r.json.error.message).toContain(f.host)
    expect(hits(f.reg, deltaPath)).toBeGreaterThanOrEqual(2)
    expect(diffTrees(before, snapshotTree(f.proj.dir))).toEqual([])
  })

  it('once: retried, and the installed bytes are the published ones', async () => {
    const { f, lockfile } = await smallProject()
    const path = tarballPath('gamma', '1.0.0')
    f.reg.failNext(exactPath(path), 1, 'truncate')
    const r = await runJson('ci', f.proj)
    expect(r.code, describeRun(r)).toBe(0)
    expect(hits(f.reg, path)).toBe(2)
    expectCompleteTree(f.proj.dir, lockfile)
  })
})
