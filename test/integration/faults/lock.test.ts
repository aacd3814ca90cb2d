// The project lock: concurrent installs in one project take turns, a lock
// left by a dead process is taken over, a live one is waited for.
import { mkdirSync, utimesSync, writeFileSync, rmSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  deadPid, describeRun, expectCompleteTree, pkg, runJson, setup, spawnCli, type Fixture,
} from './helpers.js'

const LOCK = '.safe-install.lock'

// each test spawns npm and the CLI several times: allow for a loaded machine
vi.setConfig({ testTimeout: 180_000 })

const fixtures: Fixture[] = []
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map(f => f.cleanup()))
})

async function tenPackages (): Promise<{ f: Fixture, lockfile: Record<string, any> }> {
  const specs = []
  const deps: Record<string, string> = {}
  for (let i = 0; i < 10; i++) {
    const name = `c${i}`
    specs.push(pkg(name, '1.0.0', i < 5 ? { [`c${i + 5}`]: '^1.0.0' } : undefined))
    if (i < 5) deps[name] = '^1.0.0'
  }
  const f = await setup(specs, deps)
  fixtures.push(f)
  return { f, lockfile: await f.relock() }
}

describe('two installs at once in one project', () => {
  it('both succeed (one waits for the other) and the tree is complete', async () => {
    const { f, lockfile } = await tenPackages()
    const a = spawnCli('ci', f.proj)
    const b = spawnCli('ci', f.proj)
    const [ca, cb] = await Promise.all([a.exited, b.exited])
    expect(ca, a.output()).toBe(0)
    expect(cb, b.output()).toBe(0)
    expectCompleteTree(f.proj.dir, lockfile)
    const v = await runJson('verify', f.proj)
    expect(v.code, describeRun(v)).toBe(0)
    expect(v.json.ok).toBe(true)
  })
})

describe('a lock left behind', () => {
  it('by a dead process is taken over; an empty stale one too; a live one is waited for', async () => {
    const { f, lockfile } = await tenPackages()
    const dir = f.proj.dir
    const lockDir = join(dir, LOCK)

    // a pid file naming a process that is gone
    mkdirSync(lockDir)
    writeFileSync(join(lockDir, 'pid'), String(await deadPid()))
    const r1 = await runJson('ci', f.proj, [], 30_000)
    expect(r1.code, describeRun(r1)).toBe(0)
    expectCompleteTree(dir, lockfile)

    // a lock folder with no pid file, older than the 10 s grace period (crash between mkdir and write)
    mkdirSync(lockDir)
    const old = new Date(Date.now() - 60_000)
    utimesSync(lockDir, old, old)
    const r2 = await runJson('ci', f.proj, [], 30_000)
    expect(r2.code, describeRun(r2)).toBe(0)
    expectCompleteTree(dir, lockfile)

    // a lock held by a live process (this test runner): the install waits, and proceeds once it is released
    mkdirSync(lockDir)
    writeFileSync(join(lockDir, 'pid'), String(process.pid))
    const waiting = spawnCli('ci', f.proj)
    const deadline = Date.now() + 30_000
    while (!/waiting for another safe-install \(pid \d+\)/.test(waiting.output()) && waiting.exitCode === null && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    expect(waiting.output()).toContain(`waiting for another safe-install (pid ${process.pid})`)
    expect(waiting.exitCode).toBe(null)
    rmSync(lockDir, { recursive: true, force: true })
    expect(await waiting.exited, waiting.output()).toBe(0)
    expect(existsSync(lockDir)).toBe(false)
    expectCompleteTree(dir, lockfile)
  })
})
