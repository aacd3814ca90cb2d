// `safe-install rebuild` for local packages: a workspace is project code
// (its scripts are allowed), a `file:` directory dependency is allowed by
// the project's lists; like every package their scripts run once, however
// many node_modules links point at them.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { lock } from '../../helpers/project.js'
import { setup, type Setup } from '../helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

/** appends one line per run to RUNS in the script's working folder */
const appendRun = (tag: string) => `node -e "require('fs').appendFileSync('RUNS', '${tag}\\n')"`

describe('rebuild in a workspaces project', () => {
  it('runs a workspace\'s install script exactly once (not again through its node_modules link)', async () => {
    s = await setup([
      { name: 'dep', version: '1.0.0', manifest: { scripts: { postinstall: appendRun('dep') } } },
    ], {
      workspaces: { 'packages/w': { name: 'w', scripts: { postinstall: appendRun('w') }, dependencies: { dep: '1.0.0' } } },
      packageJson: { allowScripts: { dep: true } },
    })
    const lockfile = s.lockfile()
    expect(lockfile.packages['node_modules/w']).toEqual({ resolved: 'packages/w', link: true })
    const ci = await s.si(['ci'])
    expect(ci.code, ci.stderr).toBe(0)
    const wsRuns = path.join(s.project.dir, 'packages/w/RUNS')
    const depRuns = path.join(s.project.dir, 'node_modules/dep/RUNS')
    expect(fs.existsSync(wsRuns)).toBe(false)
    expect(fs.existsSync(depRuns)).toBe(false)

    const r = await s.siJson(['rebuild'])
    expect(r.code, r.stderr).toBe(0)
    // the dependency first, then the workspace that depends on it
    expect(fs.readFileSync(depRuns, 'utf8')).toBe('dep\n')
    const order = r.report.ran.map((x: any) => x.spec)
    expect(order).toContain('w@1.0.0')
    expect(order.indexOf('dep@1.0.0')).toBeLessThan(order.indexOf('w@1.0.0'))
    // npm runs a workspace's lifecycle scripts once; running them through the
    // node_modules/w symlink as well runs them twice
    expect(r.report.ran.filter((x: any) => x.spec === 'w@1.0.0').map((x: any) => x.location)).toEqual(['packages/w'])
    expect(fs.readFileSync(wsRuns, 'utf8')).toBe('w\n')
  })
})

describe('rebuild with a file: directory dependency', () => {
  it('ci installs the link (no integrity is expected of a folder), and rebuild runs the folder\'s script once when allowed', async () => {
    s = await setup([], { dependencies: { local: 'file:local' }, packageJson: { allowScripts: { 'file:local': true } } }, { lock: false })
    const localDir = path.join(s.project.dir, 'local')
    fs.mkdirSync(localDir)
    fs.writeFileSync(path.join(localDir, 'package.json'), JSON.stringify({ name: 'local', version: '1.0.0', scripts: { postinstall: appendRun('local') } }, null, 2))
    await lock(s.project.dir, s.project.userconfig, s.project.cache)
    // what npm writes for a directory dependency: a link, and the folder without resolved/integrity
    expect(s.lockfile().packages['node_modules/local']).toEqual({ resolved: 'local', link: true })
    expect(s.lockfile().packages.local.integrity).toBeUndefined()

    const ci = await s.siJson(['ci'])
    expect(ci.code, JSON.stringify(ci.report, null, 1)).toBe(0)
    expect(fs.realpathSync(path.join(s.project.dir, 'node_modules/local'))).toBe(fs.realpathSync(localDir))
    const runs = path.join(localDir, 'RUNS')
    expect(fs.existsSync(runs)).toBe(false)

    // npm's allowScripts with a file: spec
    const r = await s.si(['rebuild'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/run local@1\.0\.0 postinstall: .*\(allowed by package\.json allowScripts "file:local"\)/)
    expect(fs.readFileSync(runs, 'utf8')).toBe('local\n')

    // LavaMoat names it by its dependency path from the root: `local`
    const pj = path.join(s.project.dir, 'package.json')
    const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'))
    delete pkg.allowScripts
    pkg.lavamoat = { allowScripts: { local: true } }
    fs.writeFileSync(pj, JSON.stringify(pkg, null, 2))
    fs.rmSync(runs)
    const lm = await s.si(['rebuild'])
    expect(lm.code, lm.stdout + lm.stderr).toBe(0)
    expect(lm.stdout).toMatch(/run local@1\.0\.0 postinstall: .*\(allowed by package\.json lavamoat\.allowScripts "local"\)/)
    expect(fs.readFileSync(runs, 'utf8')).toBe('local\n')
  })
})
