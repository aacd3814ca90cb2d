// A layout read back from the cache (lib/plan/cached.ts) is used only when it
// is well formed and every path it writes stays inside the project.
import { describe, expect, it } from 'vitest'
import { LAYOUT_VERSION, validLayout } from '../../../lib/write/tree-layout.js'

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
