// A layout read back from the cache (lib/plan/cached.ts) is used only when it
// is well formed and every path it writes stays inside the project.
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { LAYOUT_VERSION, StagingLayout, validLayout } from '../../../lib/write/tree-layout.js'

const good = {
  v: LAYOUT_VERSION,
  nodes: 2,
  files: [{ location: 'node_modules/a', path: 'node_modules/a', integrity: 'sha512-x', exclude: [], fixed: ['bin/a.js'] }],
  links: [],
  bins: [{ path: 'node_modules/.bin/a', target: '../a/bin/a.js' }],
  fixOutside: [],
  hiddenLockfile: '{}\n',
}

describe('validLayout', () => {
  it('accepts what layoutFromTree writes', () => {
    expect(validLayout(good)).toBe(true)
    expect(validLayout({ ...good, hiddenLockfile: undefined })).toBe(true)
  })

  it('refuses another version, paths leaving the project, and malformed rows', () => {
    expect(validLayout({ ...good, v: LAYOUT_VERSION + 1 })).toBe(false)
    expect(validLayout({ ...good, files: [{ ...good.files[0], path: '../elsewhere/node_modules/a' }] })).toBe(false)
    expect(validLayout({ ...good, files: [{ ...good.files[0], path: '/etc/node_modules/a' }] })).toBe(false)
    expect(validLayout({ ...good, bins: [{ path: 'node_modules/../../x', target: 'y' }] })).toBe(false)
    expect(validLayout({ ...good, fixOutside: ['../outside.js'] })).toBe(false)
    expect(validLayout({ ...good, files: [{ ...good.files[0], fixed: [1] }] })).toBe(false)
    expect(validLayout({ ...good, links: 'x' })).toBe(false)
    expect(validLayout(undefined)).toBe(false)
  })
})

describe('StagingLayout', () => {
  const prefix = path.resolve('/project')
  const rels = [
    'node_modules', 'node_modules/a', 'node_modules/@s/b/node_modules/c', 'node_modules/.bin/a',
    'packages/w/node_modules/d', 'packages/w/node_modules/.bin/x', 'node_modules/a/node_modules',
    // not in a layout's shape: taken the long way, with the same result
    'packages/./w/node_modules/e', 'packages/w/../v/node_modules/f',
  ]

  it('stages a layout path given relative as it stages the resolved one, registering the same roots', () => {
    const byAbs = new StagingLayout(prefix)
    const byRel = new StagingLayout(prefix)
    for (const rel of rels) expect(byRel.stagedRel(rel)).toBe(byAbs.staged(path.resolve(prefix, rel)))
    expect(byRel.roots().sort()).toEqual(byAbs.roots().sort())
    expect(byRel.roots().sort()).toEqual([prefix, path.join(prefix, 'packages', 'v'), path.join(prefix, 'packages', 'w')].sort())
    expect(byRel.stagedRel('node_modules/@s/b')).toBe(path.join(prefix, '.safe-install-staging-node_modules', '@s', 'b'))
  })

  it('refuses a path outside any node_modules, either way', () => {
    expect(() => new StagingLayout(prefix).stagedRel('packages/w/index.js')).toThrow(/not inside a node_modules folder/)
  })
})
