// `safe-install rebuild`: the one command that runs package code, and only
// for packages the project's allowlists name, identified by their lockfile
// entry. `ci` never runs scripts; it tells which ones rebuild would run.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { PublishSpec } from '../../fixtures/registry/index.js'
import { setup, type Setup } from '../helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

/** a package whose postinstall writes MARKER (in its own folder) */
function marking (name: string, version = '1.0.0', body = name): PublishSpec {
  return {
    name,
    version,
    manifest: { scripts: { postinstall: `node -e "require('fs').writeFileSync('MARKER', '${body}')"` } },
    files: { 'index.js': 'module.exports = 1\n' },
  }
}

const nm = () => path.join(s!.project.dir, 'node_modules')
const marker = (name: string) => path.join(nm(), name, 'MARKER')
const has = (name: string) => fs.existsSync(marker(name))
const why = (r: { code: number | null, stdout: string, stderr: string }) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`

/** ci, then the checks every allowlist format must pass: only `first` runs */
async function onlyFirstRuns (by: RegExp): Promise<void> {
  const ci = await s!.si(['ci'])
  expect(ci.code, why(ci)).toBe(0)
  expect(has('first')).toBe(false)
  expect(has('second')).toBe(false)
  expect(ci.stdout).toMatch(/install scripts not run \(2 packages\)/)
  expect(ci.stdout).toMatch(/1 of them allowed by this project \(first@1\.0\.0\): `safe-install rebuild` would run them/)
  const json = await s!.siJson(['ci'])
  expect(json.report.allowedScripts).toEqual(['first@1.0.0'])
  expect(has('first')).toBe(false)

  const dry = await s!.si(['rebuild', '--dry-run'])
  expect(dry.code, why(dry)).toBe(0)
  expect(dry.stdout).toMatch(/would run first@1\.0\.0 postinstall: node -e/)
  expect(dry.stdout).toMatch(/skip second@1\.0\.0: (not in any allowlist|denied by)/)
  expect(dry.stdout).toMatch(/rebuild: 1 would run, 1 skipped, 0 failed/)
  expect(has('first')).toBe(false)
  expect(has('second')).toBe(false)

  const r = await s!.si(['rebuild'])
  expect(r.code, why(r)).toBe(0)
  expect(r.stdout).toMatch(new RegExp(`run first@1\\.0\\.0 postinstall: node -e .*\\(allowed by ${by.source}\\)`))
  expect(r.stdout).toMatch(/skip second@1\.0\.0: (not in any allowlist|denied by)/)
  expect(r.stdout).toMatch(/rebuild: 1 ran, 1 skipped, 0 failed/)
  expect(fs.readFileSync(marker('first'), 'utf8')).toBe('first')
  expect(has('second')).toBe(false)
}

describe('rebuild runs only what the project allows', () => {
  it('npm "allowScripts" (package.json, npm 11.16+ format)', async () => {
    s = await setup([marking('first'), marking('second')], {
      dependencies: { first: '1.0.0', second: '1.0.0' },
      packageJson: { allowScripts: { 'first@1.0.0': true } },
    })
    await onlyFirstRuns(/package\.json allowScripts "first@1\.0\.0"/)

    // --json: what ran and what was skipped, by location
    fs.rmSync(marker('first'))
    const j = await s.siJson(['rebuild'])
    expect(j.code).toBe(0)
    expect(j.report.ran).toEqual([{ location: 'node_modules/first', spec: 'first@1.0.0', events: ['postinstall'] }])
    expect(j.report.skipped).toEqual([{ location: 'node_modules/second', spec: 'second@1.0.0', reason: 'not in any allowlist' }])
    expect(j.report.failed).toEqual([])
    expect(has('first')).toBe(true)
  })

  it('an explicit deny wins, and naming packages limits the run', async () => {
    s = await setup([marking('first'), marking('second')], {
      dependencies: { first: '1.0.0', second: '1.0.0' },
      packageJson: { allowScripts: { first: true, second: false } },
    })
    expect((await s.si(['ci'])).code).toBe(0)
    const named = await s.si(['rebuild', 'second'])
    expect(named.code).toBe(0)
    expect(named.stdout).toMatch(/skip second@1\.0\.0: denied by package\.json allowScripts "second"/)
    expect(named.stdout).toMatch(/rebuild: 0 ran, 1 skipped, 0 failed/)
    expect(has('first')).toBe(false)
    expect(has('second')).toBe(false)
    const r = await s.si(['rebuild'])
    expect(r.stdout).toMatch(/run first@1\.0\.0 postinstall/)
    expect(has('first')).toBe(true)
    expect(has('second')).toBe(false)
  })

  it('npm "allow-scripts" in .npmrc', async () => {
    s = await setup([marking('first'), marking('second')], {
      dependencies: { first: '1.0.0', second: '1.0.0' },
      extraNpmrc: { 'allow-scripts': 'first' },
    })
    await onlyFirstRuns(/\.npmrc allow-scripts "first"/)
  })

  it('pnpm "onlyBuiltDependencies"', async () => {
    s = await setup([marking('first'), marking('second')], {
      dependencies: { first: '1.0.0', second: '1.0.0' },
      packageJson: { pnpm: { onlyBuiltDependencies: ['first'] } },
    })
    await onlyFirstRuns(/package\.json pnpm\.onlyBuiltDependencies "first"/)
  })

  it('LavaMoat "lavamoat.allowScripts"', async () => {
    s = await setup([marking('first'), marking('second')], {
      dependencies: { first: '1.0.0', second: '1.0.0' },
      packageJson: { lavamoat: { allowScripts: { first: true, second: false } } },
    })
    await onlyFirstRuns(/package\.json lavamoat\.allowScripts "first"/)
  })

  it('a failing script is reported and exits 1', async () => {
    s = await setup([
      { name: 'broken', version: '1.0.0', manifest: { scripts: { postinstall: 'node -e "process.exit(3)"' } } },
    ], { dependencies: { broken: '1.0.0' }, packageJson: { allowScripts: { broken: true } } })
    expect((await s.si(['ci'])).code).toBe(0)
    const r = await s.si(['rebuild'])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/FAILED broken@1\.0\.0 postinstall \(exit 3\)/)
    expect(r.stdout).toMatch(/rebuild: 0 ran, 0 skipped, 1 failed/)
  })
})

describe('rebuild identifies packages by their lockfile entry, never by the package.json on disk', () => {
  it('a package whose installed package.json claims to be the allowed one gets nothing', async () => {
    s = await setup([marking('good', '1.0.0', 'good'), marking('evil', '1.0.0', 'evil')], {
      dependencies: { good: '1.0.0', evil: '1.0.0' },
      packageJson: { allowScripts: { good: true } },
    })
    const ci = await s.si(['ci'])
    expect(ci.code, why(ci)).toBe(0)
    expect(ci.stdout).toMatch(/1 of them allowed by this project \(good@1\.0\.0\)/)

    // after the install, evil's folder claims to be `good` (ci itself refuses
    // such a tarball with ESIMANIFEST, so the spoof is made on disk)
    const evilPj = path.join(nm(), 'evil/package.json')
    const evil = JSON.parse(fs.readFileSync(evilPj, 'utf8'))
    fs.writeFileSync(evilPj, JSON.stringify({ ...evil, name: 'good' }, null, 2))

    const r = await s.si(['rebuild'])
    expect(r.code, why(r)).toBe(0)
    expect(r.stdout).toMatch(/skip evil@1\.0\.0: not in any allowlist/)
    expect(r.stdout).not.toMatch(/run evil/)
    expect(r.stdout).toMatch(/run good@1\.0\.0 postinstall/)
    expect(has('evil')).toBe(false)
    expect(fs.readFileSync(marker('good'), 'utf8')).toBe('good')

    // naming the allowed package does not reach the spoofing folder either
    fs.rmSync(marker('good'))
    const named = await s.si(['rebuild', 'good'])
    expect(named.stdout).toMatch(/rebuild: 1 ran, 0 skipped, 0 failed/)
    expect(has('evil')).toBe(false)
  })

  it('a tarball whose own package.json names the allowed package is refused by ci (ESIMANIFEST), so it never reaches rebuild', async () => {
    s = await setup([
      marking('good', '1.0.0', 'good'),
      {
        name: 'evil',
        version: '1.0.0',
        files: { 'package.json': JSON.stringify({ name: 'good', version: '1.0.0', scripts: { postinstall: 'node -e "require(\'fs\').writeFileSync(\'MARKER\', \'evil\')"' } }) },
      },
    ], { dependencies: { good: '1.0.0', evil: '1.0.0' }, packageJson: { allowScripts: { good: true } } })
    const { code, report } = await s.siJson(['ci'])
    expect(code).toBe(1)
    expect(report.violations.map((v: any) => v.code)).toEqual(['ESIMANIFEST'])
    expect(report.violations[0].path).toBe('node_modules/evil')
    expect(fs.existsSync(nm())).toBe(false)
  })

  it('the allowed package\'s folder replaced by other code (name or version differs): refused', async () => {
    s = await setup([marking('good', '1.0.0', 'good'), marking('other', '1.0.0')], {
      dependencies: { good: '1.0.0', other: '1.0.0' },
      packageJson: { allowScripts: { good: true } },
    })
    expect((await s.si(['ci'])).code).toBe(0)
    const goodPj = path.join(nm(), 'good/package.json')
    const good = JSON.parse(fs.readFileSync(goodPj, 'utf8'))

    // another package's code where `good` was installed
    fs.writeFileSync(goodPj, JSON.stringify({ ...good, name: 'other', scripts: { postinstall: 'node -e "require(\'fs\').writeFileSync(\'MARKER\', \'swapped\')"' } }, null, 2))
    const byName = await s.si(['rebuild'])
    expect(byName.code, why(byName)).toBe(0)
    expect(byName.stdout).toMatch(/skip good@1\.0\.0: installed package\.json says other@1\.0\.0, the lockfile says good@1\.0\.0: refusing to run its scripts/)
    expect(has('good')).toBe(false)

    // same name, another version
    fs.writeFileSync(goodPj, JSON.stringify({ ...good, version: '6.6.6' }, null, 2))
    const byVersion = await s.si(['rebuild', '--json'])
    expect(byVersion.code).toBe(0)
    const report = JSON.parse(byVersion.stdout)
    expect(report.ran).toEqual([])
    expect(report.skipped).toContainEqual({ location: 'node_modules/good', spec: 'good@1.0.0', reason: 'installed package.json says good@6.6.6, the lockfile says good@1.0.0: refusing to run its scripts' })
    expect(has('good')).toBe(false)
    expect(has('other')).toBe(false)
  })

  it('--dry-run runs nothing, even with everything allowed', async () => {
    s = await setup([marking('first'), marking('second')], {
      dependencies: { first: '1.0.0', second: '1.0.0' },
      packageJson: { allowScripts: { first: true, second: true } },
    })
    expect((await s.si(['ci'])).code).toBe(0)
    const dry = await s.siJson(['rebuild', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.report.dryRun).toBe(true)
    expect(dry.report.ran.map((x: any) => x.spec).sort()).toEqual(['first@1.0.0', 'second@1.0.0'])
    expect(has('first')).toBe(false)
    expect(has('second')).toBe(false)
    const human = await s.si(['rebuild', '--dry-run'])
    expect(human.stdout).toMatch(/would run first@1\.0\.0 postinstall/)
    expect(human.stdout).toMatch(/would run second@1\.0\.0 postinstall/)
    expect(human.stdout).toMatch(/rebuild: 2 would run, 0 skipped, 0 failed/)
    expect(has('first')).toBe(false)
    expect(has('second')).toBe(false)
  })
})

describe('rebuild never writes into the shared content store', () => {
  it('a script that rewrites its own linked files changes only this project\'s copy', async () => {
    const rewriting: PublishSpec = {
      name: 'native',
      version: '1.0.0',
      manifest: { scripts: { postinstall: 'node -e "require(\'fs\').appendFileSync(\'index.js\', \'// built\\n\')"' } },
      files: { 'index.js': 'module.exports = 1\n' },
    }
    s = await setup([rewriting], { dependencies: { native: '1.0.0' }, packageJson: { allowScripts: { native: true } } })
    expect((await s.si(['ci'])).code).toBe(0)
    const file = path.join(nm(), 'native', 'index.js')
    // ci links the file from the read-only store
    expect(fs.statSync(file).nlink).toBeGreaterThan(1)
    const r = await s.si(['rebuild'])
    expect(r.code, why(r)).toBe(0)
    expect(fs.readFileSync(file, 'utf8')).toBe('module.exports = 1\n// built\n')
    expect(fs.statSync(file).nlink).toBe(1)
    // the store entry is unchanged: a fresh ci reuses it without repairs and gets the original bytes
    fs.rmSync(nm(), { recursive: true })
    const again = await s.siJson(['ci'])
    expect(again.code).toBe(0)
    expect(again.report.notes.filter((n: any) => n.check === 'write' && /changed|extracted again/.test(n.message))).toEqual([])
    expect(fs.readFileSync(file, 'utf8')).toBe('module.exports = 1\n')
  })
})
