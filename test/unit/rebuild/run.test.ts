import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllowLists } from '../../../lib/rebuild/allowlist.js'
import { buildOrder, matchesNames, rebuild, type RebuildEvent, type RunScriptOptions } from '../../../lib/rebuild/run.js'
import type { PlanEntry } from '../../../lib/types.js'
import { entry, plan } from './helpers.js'

let dir: string
let markers: string

const script = (event: string) => `node "${join(tmpdirRoot(), 'mark.js')}" ${event}`
let root = ''
const tmpdirRoot = () => root

async function pkg (location: string, manifest: Record<string, any>, files: Record<string, string> = {}): Promise<void> {
  const p = join(dir, location)
  await mkdir(p, { recursive: true })
  await writeFile(join(p, 'package.json'), JSON.stringify(manifest))
  for (const [f, body] of Object.entries(files)) await writeFile(join(p, f), body)
}

const post = (_name: string, extra: Record<string, string> = {}) => ({ postinstall: script('postinstall'), ...extra })

// lockfile entries
const allowedA = entry('allowed-a', '1.0.0', { dependencies: ['node_modules/allowed-a/node_modules/deep-c', 'node_modules/dep-b'] })
const deepC = entry('deep-c', '1.0.0', { location: 'node_modules/allowed-a/node_modules/deep-c', isRootDependency: false })
const depB = entry('dep-b', '1.0.0', { isRootDependency: false })
const notAllowed = entry('not-allowed', '1.0.0')
const spoof = entry('spoof', '1.0.0') // tarball claims to be "esbuild"
const esbuild = entry('esbuild', '0.25.0') // tarball claims to be "evil"
const denied = entry('denied', '1.0.0')
const noscripts = entry('noscripts', '1.0.0')
const failing = entry('failing', '1.0.0')
const afterFail = entry('after-fail', '1.0.0', { dependencies: ['node_modules/failing'] })
const bundled = entry('bundled-x', '1.0.0', { location: 'node_modules/allowed-a/node_modules/bundled-x', bundled: true, isRootDependency: false })
const missing = entry('missing', '1.0.0', { hasInstallScript: true })
const entries: PlanEntry[] = [allowedA, deepC, depB, notAllowed, spoof, esbuild, denied, noscripts, failing, afterFail, bundled, missing]

const lists = () => parseAllowLists({
  allowScripts: { 'allowed-a': true, esbuild: true, denied: false, noscripts: true, failing: true, 'after-fail': true, 'bundled-x': true, missing: true },
  pnpm: { onlyBuiltDependencies: ['dep-b', 'deep-c'] },
}, { root: dir })

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'si-rebuild-'))
  dir = join(root, 'project')
  markers = join(root, 'markers')
  await mkdir(markers, { recursive: true })
  await writeFile(join(root, 'mark.js'), `
    const fs = require('fs'), path = require('path')
    const event = process.argv[2]
    const name = process.env.npm_package_name
    fs.writeFileSync(path.join(process.env.MARKERS, name + '.' + event), process.cwd())
    fs.appendFileSync(path.join(process.env.MARKERS, 'order.log'), name + ':' + event + '\\n')
    console.log('ran ' + name + ' ' + event)
  `)
  await pkg('node_modules/allowed-a', { name: 'allowed-a', version: '1.0.0', scripts: { preinstall: script('preinstall'), ...post('allowed-a') } })
  await pkg('node_modules/allowed-a/node_modules/deep-c', { name: 'deep-c', version: '1.0.0', scripts: post('deep-c') })
  await pkg('node_modules/allowed-a/node_modules/bundled-x', { name: 'bundled-x', version: '1.0.0', scripts: post('bundled-x') })
  await pkg('node_modules/dep-b', { name: 'dep-b', version: '1.0.0', scripts: post('dep-b') })
  await pkg('node_modules/not-allowed', { name: 'not-allowed', version: '1.0.0', scripts: post('not-allowed') })
  await pkg('node_modules/spoof', { name: 'esbuild', version: '0.25.0', scripts: post('spoof') })
  await pkg('node_modules/esbuild', { name: 'evil', version: '0.25.0', scripts: post('esbuild') })
  await pkg('node_modules/denied', { name: 'denied', version: '1.0.0', scripts: post('denied') })
  await pkg('node_modules/noscripts', { name: 'noscripts', version: '1.0.0', scripts: { test: 'x' } })
  await pkg('node_modules/failing', { name: 'failing', version: '1.0.0', scripts: { preinstall: 'node -e "process.exit(3)"', ...post('failing') } })
  await pkg('node_modules/after-fail', { name: 'after-fail', version: '1.0.0', scripts: post('after-fail') })
})

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true })
})

describe('rebuild with @npmcli/run-script', () => {
  it('runs only allowed packages, dependencies first, and says why others were skipped', async () => {
    const events: RebuildEvent[] = []
    const result = await rebuild({ prefix: dir, plan: plan(entries, dir), lists: lists(), onEvent: e => events.push(e), env: { MARKERS: markers } })

    // markers: only allowed, identity-consistent packages
    const made = ['allowed-a.preinstall', 'allowed-a.postinstall', 'deep-c.postinstall', 'dep-b.postinstall']
    for (const m of made) expect(existsSync(join(markers, m)), m).toBe(true)
    for (const m of ['not-allowed', 'esbuild', 'evil', 'denied', 'bundled-x', 'after-fail', 'failing']) {
      expect(existsSync(join(markers, `${m}.postinstall`)), m).toBe(false)
    }
    expect(readFileSync(join(markers, 'deep-c.postinstall'), 'utf8')).toBe(join(dir, 'node_modules/allowed-a/node_modules/deep-c'))

    // dependency order: deep-c and dep-b before allowed-a
    const order = readFileSync(join(markers, 'order.log'), 'utf8').trim().split('\n')
    expect(order).toEqual(['deep-c:postinstall', 'dep-b:postinstall', 'allowed-a:preinstall', 'allowed-a:postinstall'])

    const skips = Object.fromEntries(events.filter(e => e.type === 'skip').map(e => [e.entry.location, (e as any).reason]))
    expect(skips['node_modules/not-allowed']).toBe('not in any allowlist')
    expect(skips['node_modules/spoof']).toBe('not in any allowlist')
    expect(skips['node_modules/esbuild']).toMatch(/installed package.json says evil@0.25.0, the lockfile says esbuild@0.25.0/)
    expect(skips['node_modules/denied']).toBe('denied by package.json allowScripts "denied"')
    expect(skips['node_modules/allowed-a/node_modules/bundled-x']).toMatch(/bundled/)
    expect(skips['node_modules/after-fail']).toBe('its dependency node_modules/failing failed to build')
    expect(skips['node_modules/missing']).toMatch(/not installed/)
    expect(skips['node_modules/noscripts']).toBeUndefined() // nothing to say

    const fail = events.find(e => e.type === 'fail')
    expect(fail).toMatchObject({ type: 'fail', event: 'preinstall', code: 3 })
    expect((fail as any).message).toMatch(/failing@1.0.0 preinstall script failed with exit code 3/)

    const done = events.filter(e => e.type === 'done') as Extract<RebuildEvent, { type: 'done' }>[]
    expect(done.find(d => d.entry.name === 'dep-b')?.stdout).toMatch(/ran dep-b postinstall/)
    const runs = events.filter(e => e.type === 'run') as Extract<RebuildEvent, { type: 'run' }>[]
    expect(runs.find(r => r.entry.name === 'dep-b')?.by).toBe('package.json pnpm.onlyBuiltDependencies "dep-b"')

    expect(result.ran.map(r => r.spec)).toEqual(['deep-c@1.0.0', 'dep-b@1.0.0', 'allowed-a@1.0.0'])
    expect(result.failed.map(f => f.spec)).toEqual(['failing@1.0.0'])
  })
})

describe('rebuild (fake runScript)', () => {
  it('names filter, implicit node-gyp, npm env', async () => {
    const gyp = entry('native', '2.0.0', { integrity: 'sha512-native' })
    const other = entry('other', '1.0.0')
    const p = join(root, 'gyp-project')
    await mkdir(join(p, 'node_modules/native'), { recursive: true })
    await writeFile(join(p, 'node_modules/native/package.json'), JSON.stringify({ name: 'native', version: '2.0.0' }))
    await writeFile(join(p, 'node_modules/native/binding.gyp'), '{}')
    await mkdir(join(p, 'node_modules/other'), { recursive: true })
    await writeFile(join(p, 'node_modules/other/package.json'), JSON.stringify({ name: 'other', version: '1.0.0', scripts: { install: 'x' } }))
    const calls: RunScriptOptions[] = []
    const l = parseAllowLists({ allowScripts: { native: true, other: true } }, { root: p })
    const r = await rebuild({
      prefix: p,
      plan: plan([gyp, other], p),
      names: ['native@2'],
      lists: l,
      runScript: async o => { calls.push(o); return { code: 0, signal: null } },
    })
    expect(calls).toHaveLength(1)
    expect(calls[0]).toMatchObject({ event: 'install', cmd: 'node-gyp rebuild', path: join(p, 'node_modules/native'), stdio: 'pipe' })
    expect(calls[0].env).toMatchObject({
      npm_package_integrity: 'sha512-native',
      npm_package_resolved: gyp.resolved,
      npm_package_json: join(p, 'node_modules/native/package.json'),
      npm_package_dev: '',
    })
    expect(r.ran).toEqual([{ location: 'node_modules/native', spec: 'native@2.0.0', events: ['install'] }])
  })

  it('matchesNames', () => {
    const e = entry('foo', '1.2.3')
    expect(matchesNames(e, undefined)).toBe(true)
    expect(matchesNames(e, ['foo'])).toBe(true)
    expect(matchesNames(e, ['foo@1.2.3'])).toBe(true)
    expect(matchesNames(e, ['foo@^1'])).toBe(true)
    expect(matchesNames(e, ['foo@2'])).toBe(false)
    expect(matchesNames(e, ['bar'])).toBe(false)
  })

  it('buildOrder: dependencies first, deepest first, cycles tolerated', () => {
    const a = entry('a', '1.0.0', { dependencies: ['node_modules/b'] })
    const b = entry('b', '1.0.0', { dependencies: ['node_modules/a'] })
    const c = entry('c', '1.0.0', { location: 'node_modules/x/node_modules/c' })
    const x = entry('x', '1.0.0', { dependencies: ['node_modules/x/node_modules/c'] })
    expect(buildOrder(plan([a, b, c, x]))).toEqual(['node_modules/x/node_modules/c', 'node_modules/b', 'node_modules/a', 'node_modules/x'])
  })
})
