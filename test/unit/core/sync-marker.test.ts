import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { syncMarker } from '../../../lib/plan/load.js'
import { optionsWith, policyWith } from '../../helpers/model.js'

const options = optionsWith(policyWith(), { cache: '/tmp/cache' } as any)
const pkg = { name: 'p', dependencies: { leaf: '^1.0.0' } }
const pkgText = JSON.stringify(pkg)
const lock = JSON.stringify({ lockfileVersion: 3, packages: { '': pkg, 'node_modules/leaf': { version: '1.0.0', integrity: 'sha512-x' } } })

describe('syncMarker: a lockfile found in sync with package.json once need not be checked again', () => {
  it('is a file under the cache, the same for the same bytes and options', () => {
    const a = syncMarker(options, pkg, pkgText, lock)!
    expect(path.dirname(a)).toBe(path.join('/tmp/cache', '_safe-install', 'in-sync'))
    expect(syncMarker(options, pkg, pkgText, lock)).toBe(a)
  })

  it('changes with package.json, the lockfile, or an option that changes the tree', () => {
    const a = syncMarker(options, pkg, pkgText, lock)
    expect(syncMarker(options, pkg, pkgText.replace('^1.0.0', '^2.0.0'), lock)).not.toBe(a)
    expect(syncMarker(options, pkg, pkgText, lock.replace('1.0.0', '1.0.1'))).not.toBe(a)
    const legacy = { ...options, npmFlat: { ...options.npmFlat, legacyPeerDeps: true } }
    expect(syncMarker(legacy, pkg, pkgText, lock)).not.toBe(a)
  })

  it('is not used when other package.json files take part (workspaces, links to folders)', () => {
    expect(syncMarker(options, { ...pkg, workspaces: ['packages/*'] }, pkgText, lock)).toBeUndefined()
    const linked = JSON.stringify({ lockfileVersion: 3, packages: { '': pkg, 'node_modules/w': { resolved: 'w', link: true } } })
    expect(syncMarker(options, pkg, pkgText, linked)).toBeUndefined()
  })
})
