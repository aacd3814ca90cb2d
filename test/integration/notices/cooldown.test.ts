// The release-age cooldown through the real CLI: a version published two
// hours ago is refused under the default one-day cooldown, and every escape
// hatch (flag, package.json, --min-release-age 0) lets it in.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { codes, setup, type Setup } from '../helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

/** publish time of the fresh versions, two hours before each test's registry starts */
let TWO_HOURS_AGO = ''

async function freshProject (packageJson?: Record<string, any>): Promise<Setup> {
  TWO_HOURS_AGO = new Date(Date.now() - 2 * 3600_000).toISOString()
  return setup([
    { name: 'old', version: '1.0.0' },
    { name: 'fresh', version: '1.0.0', time: TWO_HOURS_AGO },
    { name: '@acme/new', version: '2.0.0', time: TWO_HOURS_AGO },
  ], { dependencies: { old: '1.0.0', fresh: '1.0.0' }, packageJson })
}

const nm = () => path.join(s!.project.dir, 'node_modules')
const evidenceOf = (report: any, name: string) => report.packages.find((p: any) => p.name === name)?.evidence
const why = (r: { stdout?: string, stderr: string, report?: any }) => JSON.stringify(r.report ?? r.stdout).slice(0, 2000) + '\n' + r.stderr

describe('release-age cooldown', () => {
  it('a version published 2 hours ago: ESITOONEW naming the publish time and the setting; nothing written', async () => {
    s = await freshProject()
    const r = await s.siJson(['ci'])
    expect(r.code, why(r)).toBe(1)
    expect(codes(r.report)).toEqual(['ESITOONEW'])
    const v = r.report.violations[0]
    expect(v).toMatchObject({ package: 'fresh@1.0.0', path: 'node_modules/fresh' })
    expect(v.message).toContain(TWO_HOURS_AGO)
    expect(v.message).toMatch(/\(0\.08 days ago\), inside the 1-day release-age cooldown/)
    // the fix names when it leaves the cooldown and the exact settings that exempt it
    expect(v.fix).toContain(`wait until ${new Date(Date.parse(TWO_HOURS_AGO) + 86_400_000).toISOString()}`)
    expect(v.fix).toContain('safeInstall.minReleaseAgeExclude')
    expect(v.fix).toContain('--min-release-age-exclude fresh')
    expect(fs.existsSync(nm())).toBe(false)

    const human = await s.si(['ci'])
    expect(human.code).toBe(1)
    expect(human.stderr).toMatch(/error ESITOONEW fresh@1\.0\.0 \(node_modules\/fresh\): fresh@1\.0\.0 was published /)
    expect(human.stderr).toContain(TWO_HOURS_AGO)
    expect(human.stderr).toMatch(/fix: .*--min-release-age-exclude fresh/)
    expect(human.stderr).toMatch(/Nothing was written to node_modules/)
    expect(fs.existsSync(nm())).toBe(false)

    // a longer cooldown reaches further back: the 30-day-old `old` too
    const long = await s.siJson(['ci', '--min-release-age', '60'])
    expect(long.code).toBe(1)
    expect(long.report.violations.map((x: any) => x.package).sort()).toEqual(['fresh@1.0.0', 'old@1.0.0'])
    expect(long.report.violations.find((x: any) => x.package === 'old@1.0.0').message).toMatch(/inside the 60-day release-age cooldown/)
  })

  it('--min-release-age-exclude <name> installs it, recorded as excluded', async () => {
    s = await freshProject()
    const r = await s.siJson(['ci', '--min-release-age-exclude', 'fresh'])
    expect(r.code, why(r)).toBe(0)
    // excluded before any lookup: an excluded package costs no packument request
    expect(evidenceOf(r.report, 'fresh').releaseAge).toEqual({ status: 'excluded' })
    expect(evidenceOf(r.report, 'old').releaseAge).toMatchObject({ status: 'ok' })
    expect(fs.existsSync(path.join(nm(), 'fresh/package.json'))).toBe(true)
    const doc = JSON.parse(fs.readFileSync(path.join(nm(), '.safe-install/record.cdx.json'), 'utf8'))
    const fresh = doc.components.find((c: any) => c.name === 'fresh')
    const p = (n: string) => fresh.properties.find((x: any) => x.name === n)?.value
    expect(p('safe-install:release-age')).toBe('excluded')
    expect(doc.metadata.properties).toContainEqual({ name: 'safe-install:policy:min-release-age-exclude', value: 'fresh' })
  })

  it('package.json "safeInstall": {"minReleaseAgeExclude": [...]} installs it; a scope glob works too', async () => {
    s = await freshProject({ safeInstall: { minReleaseAgeExclude: ['fresh'] } })
    const r = await s.siJson(['ci'])
    expect(r.code, why(r)).toBe(0)
    expect(evidenceOf(r.report, 'fresh').releaseAge.status).toBe('excluded')

    // add a scoped fresh package: refused until its scope is excluded
    const pj = path.join(s.project.dir, 'package.json')
    const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'))
    pkg.dependencies['@acme/new'] = '2.0.0'
    fs.writeFileSync(pj, JSON.stringify(pkg, null, 2))
    const { lock } = await import('../../helpers/project.js')
    await lock(s.project.dir, s.project.userconfig, s.project.cache)
    const refused = await s.siJson(['ci'])
    expect(refused.code).toBe(1)
    expect(codes(refused.report)).toEqual(['ESITOONEW'])
    expect(refused.report.violations[0].package).toBe('@acme/new@2.0.0')

    pkg.safeInstall.minReleaseAgeExclude.push('@acme/*')
    fs.writeFileSync(pj, JSON.stringify(pkg, null, 2))
    const ok = await s.siJson(['ci'])
    expect(ok.code, why(ok)).toBe(0)
    expect(evidenceOf(ok.report, '@acme/new').releaseAge.status).toBe('excluded')
  })

  it('--min-release-age 0 turns the cooldown off', async () => {
    s = await freshProject()
    const r = await s.siJson(['ci', '--min-release-age', '0'])
    expect(r.code, why(r)).toBe(0)
    // the check does not run at all; the record says why
    expect(evidenceOf(r.report, 'fresh').releaseAge).toBeUndefined()
    expect(fs.existsSync(path.join(nm(), 'fresh/package.json'))).toBe(true)
    const doc = JSON.parse(fs.readFileSync(path.join(nm(), '.safe-install/record.cdx.json'), 'utf8'))
    const fresh = doc.components.find((c: any) => c.name === 'fresh')
    const p = (n: string) => fresh.properties.find((x: any) => x.name === n)?.value
    expect(p('safe-install:release-age')).toBe('not-checked')
    expect(p('safe-install:release-age:reason')).toMatch(/disabled by policy \(min-release-age-days=0\)/)
    expect(doc.metadata.properties).toContainEqual({ name: 'safe-install:policy:min-release-age-days', value: '0' })
  })
})
