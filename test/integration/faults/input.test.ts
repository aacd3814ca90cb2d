// Broken input: malformed or truncated package.json / package-lock.json, a
// missing lockfile, a lockfile out of sync with package.json. Each is a
// usage error (exit 2) with its own code, naming the file, with no stack
// trace, and node_modules is left as it was.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { diffTrees, snapshotTree } from '../../helpers/tree.js'
import {
  describeRun, expectCompleteTree, expectNoStack, pkg, run, runJson, setup, type Fixture,
} from './helpers.js'

// each test spawns npm and the CLI several times: allow for a loaded machine
vi.setConfig({ testTimeout: 180_000 })

const fixtures: Fixture[] = []
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map(f => f.cleanup()))
})

/** alpha@1.0.0 -> beta, locked by npm (unless `locked` is false), and a node_modules to keep intact. */
async function project (locked = true): Promise<{ f: Fixture, lockfile?: Record<string, any> }> {
  const f = await setup([
    pkg('beta', '1.0.0'),
    pkg('alpha', '1.0.0', { beta: '^1.0.0' }),
    pkg('alpha', '2.0.0', { beta: '^1.0.0' }),
    pkg('gamma', '1.0.0'),
  ], { alpha: '^1.0.0' })
  fixtures.push(f)
  const lockfile = locked ? await f.relock() : undefined
  // stands for an earlier install: these tests must leave it as it is
  mkdirSync(join(f.proj.dir, 'node_modules', 'alpha'), { recursive: true })
  writeFileSync(join(f.proj.dir, 'node_modules', 'alpha', 'package.json'), '{"name":"alpha","version":"1.0.0"}\n')
  writeFileSync(join(f.proj.dir, 'node_modules', '.package-lock.json'), '{}\n')
  return { f, lockfile }
}

/** exit 2 with `code` in --json, naming `mentions`; node_modules untouched. With `human`, also the stderr rendering, with no stack. */
async function expectUsageError (f: Fixture, command: string, code: string, mentions: string[], human = false): Promise<void> {
  const before = snapshotTree(f.proj.dir)
  const j = await runJson(command, f.proj)
  expect(j.code, describeRun(j)).toBe(2)
  expect(j.json.ok).toBe(false)
  expect(j.json.exitCode).toBe(2)
  expect(j.json.error.code).toBe(code)
  for (const m of mentions) expect(j.json.error.message).toContain(m)
  expectNoStack(j.stdout + j.stderr)
  if (human) {
    const h = await run(command, f.proj)
    expect(h.code, describeRun(h)).toBe(2)
    expect(h.stderr).toContain(code)
    for (const m of mentions) expect(h.stderr).toContain(m)
    expectNoStack(h.stderr)
  }
  expect(diffTrees(before, snapshotTree(f.proj.dir))).toEqual([])
}

describe('malformed package-lock.json', () => {
  it('truncated, empty, or without lockfileVersion: ESIBADJSON, exit 2, names the file, no stack', async () => {
    const { f } = await project()
    const file = join(f.proj.dir, 'package-lock.json')
    const text = readFileSync(file, 'utf8')
    writeFileSync(file, text.slice(0, Math.floor(text.length / 2)))
    await expectUsageError(f, 'ci', 'ESIBADJSON', [file], true)
    await expectUsageError(f, 'verify', 'ESIBADJSON', [file])
    // a crash while saving it
    writeFileSync(file, '')
    await expectUsageError(f, 'ci', 'ESIBADJSON', [file])
    writeFileSync(file, '{"name":"fixture-project"}\n')
    await expectUsageError(f, 'ci', 'ESIBADJSON', [file])
  })

  it('valid JSON with a malformed entry (a version that is not a string): ESIBADJSON, exit 2, no stack', async () => {
    const { f, lockfile } = await project()
    const file = join(f.proj.dir, 'package-lock.json')
    const entry = lockfile!.packages['node_modules/alpha']
    writeFileSync(file, JSON.stringify({ ...lockfile, packages: { ...lockfile!.packages, 'node_modules/alpha': { ...entry, version: 1 } } }, null, 2))
    await expectUsageError(f, 'ci', 'ESIBADJSON', [file], true)
  })
})

describe('malformed package.json', () => {
  it('truncated: ESIBADJSON, exit 2, names the file, no stack (ci and install)', async () => {
    const { f } = await project()
    const file = join(f.proj.dir, 'package.json')
    const text = readFileSync(file, 'utf8')
    writeFileSync(file, text.slice(0, Math.floor(text.length / 2)))
    await expectUsageError(f, 'ci', 'ESIBADJSON', [file], true)
    await expectUsageError(f, 'install', 'ESIBADJSON', [file])
  })
})

describe('byte order marks', () => {
  it('a UTF-8 BOM before package.json and package-lock.json is accepted, as npm ci accepts it', async () => {
    const { f, lockfile } = await project()
    for (const name of ['package.json', 'package-lock.json']) {
      const file = join(f.proj.dir, name)
      writeFileSync(file, '\uFEFF' + readFileSync(file, 'utf8'))
    }
    const r = await runJson('ci', f.proj)
    expect(r.code, describeRun(r)).toBe(0)
    expectCompleteTree(f.proj.dir, lockfile!)
  })
})

describe('install-strategy=linked', () => {
  it('is refused before anything is fetched or written (ESIUSAGE, exit 2), not silently laid out hoisted', async () => {
    const { f } = await project()
    writeFileSync(join(f.proj.dir, '.npmrc'), 'install-strategy=linked\n')
    await expectUsageError(f, 'ci', 'ESIUSAGE', ['install-strategy=linked'], true)
    await expectUsageError(f, 'install', 'ESIUSAGE', ['install-strategy=linked'])
  })
})

describe('lockfile presence and sync', () => {
  it('ci or verify without a lockfile: ESINOLOCK, exit 2', async () => {
    const { f } = await project(false)
    await expectUsageError(f, 'ci', 'ESINOLOCK', ['package-lock.json'], true)
    await expectUsageError(f, 'verify', 'ESINOLOCK', ['package-lock.json'])
  })

  it('package.json changed after locking (dependency added, range moved): ESILOCKSYNC, exit 2, names it', async () => {
    const { f } = await project()
    f.setDependencies({ alpha: '^1.0.0', gamma: '^1.0.0' })
    await expectUsageError(f, 'ci', 'ESILOCKSYNC', ['gamma'], true)
    f.setDependencies({ alpha: '^2.0.0' })
    await expectUsageError(f, 'ci', 'ESILOCKSYNC', ['alpha'])
  })
})
