// MaterializeWriter against ArboristWriter on the same verified packages:
// the same files (content and exec bit), the same symlinks (links and bins),
// the same hidden lockfile, and a tree real npm accepts (`npm ls --all`).
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadOptions } from '../../../lib/config/load.js'
import { runPipeline } from '../../../lib/pipeline.js'
import { ArboristWriter } from '../../../lib/write/arborist-writer.js'
import { MaterializeWriter } from '../../../lib/write/materialize.js'
import { linkClaimedYielding } from '../../../lib/write/shared-links.js'
import { contentStoreRoot, extractEntry } from '../../../lib/write/store.js'
import { PREVIOUS, STAGING, JOURNAL } from '../../../lib/write/swap.js'
import type { TreeWriter } from '../../../lib/write/writer.js'
import { noProxyForLocalhost, withoutNpmConfig } from '../../helpers/env.js'
import { runNpm } from '../../helpers/project.js'
import { setup, type Setup } from '../helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

const CRLF_BIN = '#!/usr/bin/env node\r\nconsole.log("crlf")\r\n'

/** Scoped packages, nested versions, bins (one nested, one CRLF), a bundled dependency, a workspace, optional deps. */
async function richProject (): Promise<Setup> {
  const s = await setup([
    { name: 'leaf', version: '1.0.0', files: { 'index.js': 'module.exports = 1\n' } },
    { name: 'leaf', version: '2.0.0', files: { 'index.js': 'module.exports = 2\n', 'lib/deep/x.js': 'x\n', '.gitignore': 'ignored\n' } },
    { name: '@acme/tool', version: '1.2.3', manifest: { bin: { 'acme-tool': 'cli.js' }, dependencies: { leaf: '^1.0.0' } }, files: { 'cli.js': '#!/usr/bin/env node\n', 'data/exec.sh': { content: '#!/bin/sh\n', mode: 0o755 } } },
    { name: '@acme/util', version: '0.1.0', manifest: { bin: 'crlf.js' }, files: { 'crlf.js': CRLF_BIN } },
    { name: 'nb', version: '1.0.0', manifest: { bin: { nb: 'bin/nb.js' } }, files: { 'bin/nb.js': '#!/usr/bin/env node\n// nb 1\n' } },
    { name: 'nb', version: '2.0.0', manifest: { bin: { nb: 'bin/nb.js' } }, files: { 'bin/nb.js': '#!/usr/bin/env node\n// nb 2\n' } },
    { name: 'uses-old-nb', version: '1.0.0', manifest: { dependencies: { nb: '1.0.0' } } },
    // bin name clash at the top: the first in npm's order gets it, the other target stays as extracted
    { name: 'clash-a', version: '1.0.0', manifest: { bin: { clash: 'a.js' } }, files: { 'a.js': '#!/usr/bin/env node\n' } },
    { name: 'clash-b', version: '1.0.0', manifest: { bin: { clash: 'b.js' } }, files: { 'b.js': '#!/usr/bin/env node\n' } },
    {
      name: 'bundler',
      version: '1.0.0',
      manifest: { dependencies: { 'bundled-dep': '1.0.0' }, bundleDependencies: ['bundled-dep'] },
      files: {
        'index.js': 'module.exports = require("bundled-dep")\n',
        'node_modules/bundled-dep/package.json': JSON.stringify({ name: 'bundled-dep', version: '1.0.0', bin: { bd: 'bd.js' } }),
        'node_modules/bundled-dep/bd.js': '#!/usr/bin/env node\n',
      },
    },
    { name: 'bundled-dep', version: '1.0.0', manifest: { bin: { bd: 'bd.js' } }, files: { 'bd.js': '#!/usr/bin/env node\n// from the registry\n' } },
    { name: 'opt-dep', version: '1.0.0' },
    { name: 'opt-other-os', version: '1.0.0', manifest: { os: [process.platform === 'win32' ? 'darwin' : 'win32'] } },
    { name: 'ws-dep', version: '1.0.0' },
  ], {
    dependencies: { '@acme/tool': '1.2.3', '@acme/util': '0.1.0', leaf: '2.0.0', nb: '2.0.0', 'uses-old-nb': '1.0.0', bundler: '1.0.0', 'clash-a': '1.0.0', 'clash-b': '1.0.0' },
    optionalDependencies: { 'opt-dep': '1.0.0', 'opt-other-os': '1.0.0' },
    workspaces: {
      'packages/ws': { name: 'ws', bin: { 'ws-bin': 'cli.js' }, dependencies: { leaf: '1.0.0', 'ws-dep': '1.0.0' } },
    },
  })
  fs.writeFileSync(path.join(s.project.dir, 'packages/ws/cli.js'), '#!/usr/bin/env node\n', { mode: 0o644 })
  return s
}

function envFor (s: Setup): NodeJS.ProcessEnv {
  return { ...noProxyForLocalhost(withoutNpmConfig(process.env)), npm_config_globalconfig: '/dev/null' }
}

async function install (s: Setup, writer: TreeWriter, policy: Record<string, unknown> = {}) {
  const options = await loadOptions({
    argv: ['ci', '--userconfig', s.project.userconfig],
    cwd: s.project.dir,
    env: envFor(s),
    flags: { command: 'ci', policy: { minReleaseAgeDays: 0, ...policy } },
  })
  const result = await runPipeline(options, {}, { checks: [], writer })
  if (writer instanceof MaterializeWriter) await writer.settle()
  return { options, result }
}

/** relpath -> 'file <exec bits> <sha1>' | 'symlink <target>' | 'dir' (write bits differ: store files are read-only hard links). */
function snapshot (dir: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (abs: string, rel: string) => {
    let names: string[]
    try { names = fs.readdirSync(abs).sort() } catch { return }
    for (const name of names) {
      const a = path.join(abs, name)
      const r = rel ? `${rel}/${name}` : name
      if (skip(r)) continue
      const st = fs.lstatSync(a)
      if (st.isSymbolicLink()) out.set(r, `symlink ${fs.readlinkSync(a)}`)
      else if (st.isDirectory()) { out.set(r, 'dir'); walk(a, r) } else out.set(r, `file ${(st.mode & 0o111).toString(8)} ${createHash('sha1').update(fs.readFileSync(a)).digest('hex')}`)
    }
  }
  walk(dir, '')
  return out
}

function projectTrees (dir: string): Map<string, string> {
  const all = new Map<string, string>()
  for (const [k, v] of snapshot(path.join(dir, 'node_modules'), r => r === '.safe-install')) all.set(`node_modules/${k}`, v)
  for (const [k, v] of snapshot(path.join(dir, 'packages/ws/node_modules'))) all.set(`packages/ws/node_modules/${k}`, v)
  return all
}

function diff (a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = []
  for (const [k, v] of a) if (b.get(k) !== v) out.push(`${k}: ${v} != ${b.get(k)}`)
  for (const k of b.keys()) if (!a.has(k)) out.push(`only in second: ${k}`)
  return out
}

async function npmLsProblems (s: Setup): Promise<string[]> {
  const r = await runNpm(['ls', '--all', '--json'], { cwd: s.project.dir, userconfig: s.project.userconfig })
  const report = JSON.parse(r.stdout)
  return [...(report.problems ?? []), ...(r.code === 0 ? [] : [`npm ls exited ${r.code}: ${r.stderr.split('\n')[0]}`])]
}

describe('MaterializeWriter: the same tree as ArboristWriter', () => {
  it('builds the same files, links, bins and hidden lockfile, and npm accepts it', async () => {
    s = await richProject()
    const dir = s.project.dir

    await install(s, new ArboristWriter())
    const reference = projectTrees(dir)
    const referenceLock = fs.readFileSync(path.join(dir, 'node_modules/.package-lock.json'), 'utf8')
    expect(await npmLsProblems(s)).toEqual([])

    const writer = new MaterializeWriter()
    const { result } = await install(s, writer)
    expect(result.wrote).toBe(true)
    const ours = projectTrees(dir)
    expect(diff(reference, ours)).toEqual([])
    expect(fs.readFileSync(path.join(dir, 'node_modules/.package-lock.json'), 'utf8')).toBe(referenceLock)
    expect(await npmLsProblems(s)).toEqual([])

    // what the fixture is meant to cover is really there
    expect(ours.get('node_modules/.bin/acme-tool')).toBe('symlink ../@acme/tool/cli.js')
    expect(ours.get('node_modules/.bin/ws-bin')).toBe('symlink ../ws/cli.js')
    expect(ours.get('node_modules/ws')).toBe('symlink ../packages/ws')
    expect(ours.get('node_modules/uses-old-nb/node_modules/.bin/nb')).toBe('symlink ../nb/bin/nb.js')
    expect(ours.get('node_modules/bundler/node_modules/bundled-dep/bd.js')).toMatch(/^file /)
    expect(ours.get('node_modules/@acme/tool/data/exec.sh')).toMatch(/^file 111 /)
    expect(ours.get('node_modules/@acme/tool/node_modules/leaf/package.json')).toMatch(/^file /)
    expect(ours.get('node_modules/leaf/.npmignore')).toMatch(/^file /)
    expect(ours.get('packages/ws/node_modules/leaf/package.json')).toMatch(/^file /)
    expect(ours.get('node_modules/opt-dep/package.json')).toMatch(/^file /)
    expect(ours.has('node_modules/opt-other-os')).toBe(false)
    expect(fs.readFileSync(path.join(dir, 'node_modules/@acme/util/crlf.js'), 'utf8')).toBe('#!/usr/bin/env node\nconsole.log("crlf")\r\n')
    // exactly one of the clashing bins is executable
    expect([ours.get('node_modules/clash-a/a.js'), ours.get('node_modules/clash-b/b.js')].map(v => v!.split(' ')[1]).sort()).toEqual(['0', '111'])

    // hard links into the read-only store, nothing left behind
    const leaf = fs.statSync(path.join(dir, 'node_modules/leaf/index.js'))
    expect(leaf.nlink).toBeGreaterThan(1)
    expect(leaf.mode & 0o222).toBe(0)
    for (const name of [PREVIOUS, STAGING, JOURNAL]) expect(fs.existsSync(path.join(dir, name))).toBe(false)
    expect(fs.readdirSync(dir).filter(n => n.startsWith('.safe-install'))).toEqual([])
    expect(fs.readdirSync(path.join(dir, 'packages/ws')).filter(n => n.startsWith('.safe-install'))).toEqual([])
    // the entries were extracted from the verified bytes while fetching; write() checked and reused them
    expect(writer.stats!.entriesExtracted).toBe(0)
    expect(writer.stats!.entriesReused).toBeGreaterThan(0)

    // warm: every entry reused, same tree again
    const warm = new MaterializeWriter()
    await install(s, warm)
    expect(warm.stats!.entriesExtracted).toBe(0)
    expect(warm.events).toEqual([])
    expect(diff(reference, projectTrees(dir))).toEqual([])
    expect(await npmLsProblems(s)).toEqual([])
  })

  it('copy and clone-or-link import methods give the same tree; copies are writable like npm\'s', async () => {
    s = await richProject()
    const dir = s.project.dir
    await install(s, new ArboristWriter())
    const reference = projectTrees(dir)
    const npmMode = fs.statSync(path.join(dir, 'node_modules/leaf/index.js')).mode & 0o777

    const copy = new MaterializeWriter()
    await install(s, copy, { importMethod: 'copy' })
    expect(copy.stats!.imported.hardlink).toBe(0)
    expect(diff(reference, projectTrees(dir))).toEqual([])
    const st = fs.statSync(path.join(dir, 'node_modules/leaf/index.js'))
    expect(st.nlink).toBe(1)
    expect(st.mode & 0o777).toBe(npmMode)

    const auto = new MaterializeWriter()
    await install(s, auto, { importMethod: 'auto' })
    expect(auto.stats!.imported.clone + auto.stats!.imported.hardlink).toBeGreaterThan(0)
    expect(diff(reference, projectTrees(dir))).toEqual([])
  })

  it('tarballs handed to an extractor while packages are verified: the write waits for it and extracts nothing itself; a failing extractor leaves the work to the write', async () => {
    s = await richProject()
    const dir = s.project.dir
    await install(s, new ArboristWriter())
    const reference = projectTrees(dir)

    const asked: string[] = []
    let finished = 0
    const slow = new MaterializeWriter({
      // slower than the fetches: the write must wait for it, not race it
      extractor: async (root, tarballs, integrity) => {
        asked.push(integrity)
        await new Promise(resolve => setTimeout(resolve, 150))
        await extractEntry(root, tarballs, integrity)
        finished++
      },
    })
    fs.rmSync(contentStoreRoot(s.project.cache), { recursive: true, force: true })
    const { result } = await install(s, slow)
    const integrities = new Set([...result.verified.values()].map(p => p.integrity))
    expect(asked.length).toBe(integrities.size)
    expect(new Set(asked)).toEqual(integrities)
    expect(finished).toBe(asked.length)
    expect(slow.stats!.entriesExtracted).toBe(0)
    expect(diff(reference, projectTrees(dir))).toEqual([])

    const failing = new MaterializeWriter({ extractor: async () => { throw new Error('no thread') } })
    fs.rmSync(contentStoreRoot(s.project.cache), { recursive: true, force: true })
    await install(s, failing)
    expect(failing.stats!.entriesExtracted).toBe(integrities.size)
    expect(diff(reference, projectTrees(dir))).toEqual([])
  })

  it('hard links shared with a linker give the same tree; jobs of a linker that dies are redone here, half-linked or not; a file it cannot link fails the write, the previous tree kept', async () => {
    s = await richProject()
    const dir = s.project.dir
    const hardlink = { importMethod: 'hardlink' }
    await install(s, new ArboristWriter(), hardlink)
    const reference = projectTrees(dir)
    const alone = new MaterializeWriter()
    await install(s, alone, hardlink)

    let theirs = 0
    const sharing = new MaterializeWriter({
      linker: async (jobs, claim) => {
        const linked = await linkClaimedYielding(jobs, claim, 1)
        theirs += linked.done.length
        return linked
      },
    })
    await install(s, sharing, hardlink)
    expect(theirs).toBeGreaterThan(0)
    expect(diff(reference, projectTrees(dir))).toEqual([])
    // counted as if one thread had done it all
    expect(sharing.stats!.imported).toEqual(alone.stats!.imported)
    expect(sharing.stats!.files).toBe(alone.stats!.files)

    // claims a job, links half of its files, and is gone
    let half = 0
    const dying = new MaterializeWriter({
      linker: async (jobs, claim) => {
        const [src, dst, paths] = jobs[Atomics.add(claim, 0, 1)]
        for (const rel of paths.slice(0, Math.ceil(paths.length / 2))) { fs.linkSync(`${src}/${rel}`, `${dst}/${rel}`); half++ }
        throw new Error('the thread is gone')
      },
    })
    await install(s, dying, hardlink)
    expect(half).toBeGreaterThan(0)
    expect(diff(reference, projectTrees(dir))).toEqual([])

    const before = projectTrees(dir)
    const failing = new MaterializeWriter({
      linker: async () => ({ done: [], counts: { clone: 0, hardlink: 0, copy: 0 }, notes: [], failed: { message: 'injected EIO', code: 'EIO' } }),
    })
    await expect(install(s, failing, hardlink)).rejects.toMatchObject({ code: 'ESIWRITE', message: expect.stringMatching(/EIO/) })
    expect(diff(before, projectTrees(dir))).toEqual([])
    expect(fs.existsSync(path.join(dir, STAGING))).toBe(false)

    // this thread fails on a file of its own jobs while the linker is still at work: the
    // linker is told to stop and heard out before the staged tree is removed
    let linkerDone = false
    let linkerJobs = 0
    const slow = new MaterializeWriter({
      linker: async (jobs, claim) => {
        for (let p = Atomics.add(claim, 0, 1); p < jobs.length; p = Atomics.add(claim, 0, 1)) {
          await new Promise(resolve => setTimeout(resolve, 20))
          const [src, dst, paths] = jobs[p]
          for (const rel of paths) fs.linkSync(`${src}/${rel}`, `${dst}/${rel}`)
          linkerJobs++
        }
        linkerDone = true
        return { done: [], counts: { clone: 0, hardlink: 0, copy: 0 }, notes: [] }
      },
    })
    const origLink = fs.linkSync
    ;(fs as any).linkSync = (from: fs.PathLike, to: fs.PathLike) => {
      // @acme/util's bin is fixed by the store: its job is never shared
      if (String(to).includes(STAGING) && String(to).endsWith(path.join('@acme', 'util', 'crlf.js'))) throw Object.assign(new Error('injected EIO'), { code: 'EIO' })
      return origLink(from, to)
    }
    try {
      await expect(install(s, slow, hardlink).finally(() => expect(linkerDone).toBe(true))).rejects.toMatchObject({ code: 'ESIWRITE' })
    } finally {
      (fs as any).linkSync = origLink
    }
    expect(linkerJobs).toBeGreaterThan(0)
    expect(diff(before, projectTrees(dir))).toEqual([])
    expect(fs.existsSync(path.join(dir, STAGING))).toBe(false)
  })

  it('a store file changed on disk is detected, the entry extracted again, and the tree is right', async () => {
    s = await richProject()
    const dir = s.project.dir
    const first = new MaterializeWriter()
    await install(s, first)
    const before = projectTrees(dir)
    // edit a hard-linked file in node_modules: that edits the store entry
    const file = path.join(dir, 'node_modules/leaf/index.js')
    fs.chmodSync(file, 0o644)
    fs.writeFileSync(file, 'module.exports = 9\n')
    fs.chmodSync(file, 0o444)

    const second = new MaterializeWriter()
    await install(s, second)
    expect(second.events.map(e => e.kind)).toEqual(['changed'])
    expect(second.notes.some(n => n.level === 'warning' && /extracted again/.test(n.message))).toBe(true)
    expect(diff(before, projectTrees(dir))).toEqual([])
    expect(fs.readFileSync(file, 'utf8')).toBe('module.exports = 2\n')
    expect(fs.existsSync(contentStoreRoot(s.project.cache))).toBe(true)
  })

  it('a failure while staging leaves the previous node_modules exactly as it was', async () => {
    s = await richProject()
    const dir = s.project.dir
    await install(s, new MaterializeWriter())
    const before = projectTrees(dir)
    // the disk fills up while the new tree is being staged
    const blocker = path.join(dir, 'packages/ws', STAGING)
    const options = await loadOptions({ argv: ['ci', '--userconfig', s.project.userconfig], cwd: dir, env: envFor(s), flags: { command: 'ci', policy: { minReleaseAgeDays: 0 } } })
    const writer = new MaterializeWriter()
    const origMkdir = fs.mkdirSync
    let injected = 0
    ;(fs as any).mkdirSync = (p: fs.PathLike, o?: any) => {
      if (String(p).includes(STAGING) && String(p).endsWith(path.join('nb', 'bin'))) {
        injected++
        throw Object.assign(new Error('injected ENOSPC'), { code: 'ENOSPC' })
      }
      return origMkdir(p, o)
    }
    try {
      await expect(runPipeline(options, {}, { checks: [], writer })).rejects.toMatchObject({ code: 'ESIWRITE' })
    } finally {
      (fs as any).mkdirSync = origMkdir
    }
    expect(injected).toBe(1)
    expect(diff(before, projectTrees(dir))).toEqual([])
    expect(fs.existsSync(blocker)).toBe(false)
    expect(fs.existsSync(path.join(dir, STAGING))).toBe(false)
    expect(fs.existsSync(path.join(dir, JOURNAL))).toBe(false)
  })

  it('the record written into the staged tree fails: ESIWRITE (exit 6) saying why, nothing swapped in, the previous node_modules exactly as it was', async () => {
    s = await richProject()
    const dir = s.project.dir
    await install(s, new MaterializeWriter())
    const before = projectTrees(dir)
    const options = await loadOptions({ argv: ['ci', '--userconfig', s.project.userconfig], cwd: dir, env: envFor(s), flags: { command: 'ci', policy: { minReleaseAgeDays: 0 } } })
    const asked: string[] = []
    const stageRecord = (stagedDir: string, dropped: AbortSignal) => {
      asked.push(stagedDir)
      expect(dropped.aborted).toBe(false)
      return Promise.reject(Object.assign(new Error('injected ENOSPC'), { code: 'ENOSPC' }))
    }
    const err = await runPipeline(options, {}, { checks: [], writer: new MaterializeWriter(), stageRecord }).catch(e => e)
    expect(err).toMatchObject({ code: 'ESIWRITE', exitCode: 6, fix: 'free disk space and run again' })
    expect(err.message).toMatch(/ENOSPC: injected ENOSPC.*the previous tree was restored/)
    // asked for the folder that becomes node_modules/.safe-install, inside the staged tree
    expect(asked).toEqual([path.join(dir, STAGING, '.safe-install')])
    expect(diff(before, projectTrees(dir))).toEqual([])
    expect(fs.existsSync(path.join(dir, STAGING))).toBe(false)
    expect(fs.existsSync(path.join(dir, JOURNAL))).toBe(false)
  })
})

describe('install <spec>: the verified store writes the tree, Arborist\'s own save step writes package.json and the lockfile', () => {
  async function installSpec (s: Setup, writer: TreeWriter, add: string[]) {
    const options = await loadOptions({
      argv: ['install', ...add, '--userconfig', s.project.userconfig],
      cwd: s.project.dir,
      env: envFor(s),
      flags: { command: 'install', policy: { minReleaseAgeDays: 0 } },
    })
    const result = await runPipeline(options, { add }, { checks: [], writer })
    if (writer instanceof MaterializeWriter) await writer.settle()
    return result
  }

  it('gives the same package.json, lockfile and tree as Arborist\'s reify', async () => {
    const saved: Array<{ pkg: string, lock: string, hidden: string, tree: Map<string, string> }> = []
    for (const writer of [new ArboristWriter(), new MaterializeWriter()]) {
      s = await setup([
        { name: 'leaf', version: '1.0.0' },
        { name: 'leaf', version: '1.1.0' },
        { name: 'tool', version: '2.0.0', manifest: { bin: { tool: 'cli.js' }, dependencies: { leaf: '^1.0.0' } }, files: { 'cli.js': '#!/usr/bin/env node\n' } },
        { name: 'dev-thing', version: '3.0.0' },
      ], { dependencies: { leaf: '1.0.0' }, devDependencies: { 'dev-thing': '^3.0.0' } })
      const result = await installSpec(s, writer, ['tool@^2.0.0'])
      expect(result.wrote).toBe(true)
      saved.push({
        pkg: fs.readFileSync(path.join(s.project.dir, 'package.json'), 'utf8'),
        lock: fs.readFileSync(path.join(s.project.dir, 'package-lock.json'), 'utf8'),
        hidden: fs.readFileSync(path.join(s.project.dir, 'node_modules/.package-lock.json'), 'utf8'),
        tree: projectTrees(s.project.dir),
      })
      expect(await npmLsProblems(s)).toEqual([])
      await s.cleanup()
      s = undefined
    }
    const [reify, ours] = saved
    expect(JSON.parse(ours!.pkg).dependencies).toEqual({ leaf: '1.0.0', tool: '^2.0.0' })
    // the fixture registries listen on different ports: compare with the URL left out
    const noPort = (t: string) => t.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1')
    expect(ours!.pkg).toBe(reify!.pkg)
    expect(noPort(ours!.lock)).toBe(noPort(reify!.lock))
    expect(noPort(ours!.hidden)).toBe(noPort(reify!.hidden))
    for (const t of [reify!.tree, ours!.tree]) t.delete('node_modules/.package-lock.json')
    expect(diff(reify!.tree, ours!.tree)).toEqual([])
  })
})
