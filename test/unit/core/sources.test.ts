import { describe, expect, it } from 'vitest'

import { ERROR_CODES } from '../../../lib/errors.js'
import { allows, checkSources } from '../../../lib/policy/sources.js'
import type { AllowSetting, SourceType } from '../../../lib/types.js'
import { makeEntry, makePolicy } from './helpers.js'

const KINDS = [
  { source: 'git', code: 'ESIGIT', setting: 'allowGit', npmKey: 'allow-git', resolved: 'git+ssh://git@example.com/a/b.git#0123456789abcdef0123456789abcdef01234567' },
  { source: 'remote', code: 'ESIREMOTE', setting: 'allowRemote', npmKey: 'allow-remote', resolved: 'https://example.com/b.tgz' },
  { source: 'file', code: 'ESIFILE', setting: 'allowFile', npmKey: 'allow-file', resolved: 'file:vendor/b-1.0.0.tgz' },
  { source: 'directory', code: 'ESIDIRECTORY', setting: 'allowDirectory', npmKey: 'allow-directory', resolved: 'file:../b' },
] as const

describe('allows', () => {
  const root = makeEntry({ name: 'a', isRootDependency: true })
  const deep = makeEntry({ name: 'b', isRootDependency: false })
  it('all allows everything, none nothing, root only direct dependencies', () => {
    expect(allows('all', root)).toBe(true)
    expect(allows('all', deep)).toBe(true)
    expect(allows('none', root)).toBe(false)
    expect(allows('none', deep)).toBe(false)
    expect(allows('root', root)).toBe(true)
    expect(allows('root', deep)).toBe(false)
  })
})

describe('checkSources', () => {
  for (const k of KINDS) {
    describe(k.source, () => {
      const rootEntry = makeEntry({ name: 'b', source: k.source as SourceType, resolved: k.resolved, isRootDependency: true })
      const deepEntry = makeEntry({ name: 'b', location: 'node_modules/a/node_modules/b', source: k.source as SourceType, resolved: k.resolved, isRootDependency: false })
      const policyWith = (s: AllowSetting) => makePolicy({ [k.setting]: s })

      it(`none refuses a direct dependency with ${k.code}`, () => {
        const out = checkSources([rootEntry], policyWith('none'))
        expect(out).toHaveLength(1)
        expect(out[0].code).toBe(k.code)
        expect(out[0].package).toBe('b@1.0.0')
        expect(out[0].path).toBe('node_modules/b')
        expect(out[0].message).toContain(k.resolved)
        expect(out[0].message).toContain(`${k.npmKey} is "none"`)
        expect(out[0].fix).toContain(`${k.npmKey}=root|all`)
        expect(out[0].fix).toContain(`safeInstall.${k.setting}`)
        expect(ERROR_CODES).toHaveProperty(out[0].code)
      })

      it('none refuses a transitive dependency too', () => {
        const out = checkSources([deepEntry], policyWith('none'))
        expect(out.map(v => v.code)).toEqual([k.code])
        expect(out[0].path).toBe('node_modules/a/node_modules/b')
      })

      it('root allows a direct dependency (git: allowed, yet still refused as unverifiable)', () => {
        const out = checkSources([rootEntry], policyWith('root'))
        if (k.source === 'git') expect(out[0].message).toMatch(/no integrity to verify/)
        else expect(out).toEqual([])
      })

      it('root refuses a transitive dependency, and the fix says why', () => {
        const out = checkSources([deepEntry], policyWith('root'))
        expect(out.map(v => v.code)).toEqual([k.code])
        expect(out[0].message).toContain(`${k.npmKey} is "root"`)
        expect(out[0].fix).toContain(`${k.npmKey}=root`)
        expect(out[0].fix).toMatch(/only direct dependencies/)
      })

      it('all allows both (git: allowed, yet still refused as unverifiable)', () => {
        const out = checkSources([rootEntry, deepEntry], policyWith('all'))
        if (k.source === 'git') expect(out.map(v => v.message.includes('no integrity to verify'))).toEqual([true, true])
        else expect(out).toEqual([])
      })

      it('a bundled entry is never judged (it ships inside its parent)', () => {
        expect(checkSources([{ ...deepEntry, bundled: true }], policyWith('none'))).toEqual([])
      })

      it('the setting of another source does not leak into this one', () => {
        const others = makePolicy({ allowGit: 'all', allowRemote: 'all', allowFile: 'all', allowDirectory: 'all', [k.setting]: 'none' })
        expect(checkSources([rootEntry], others).map(v => v.code)).toEqual([k.code])
      })
    })
  }

  it('registry, link and workspace entries are never judged, even with everything set to none', () => {
    const entries = (['registry', 'link', 'workspace'] as SourceType[]).map(source =>
      makeEntry({ name: `x-${source}`, source, resolved: 'file:../x', isRootDependency: false }))
    expect(checkSources(entries, makePolicy())).toEqual([])
  })

  it('a missing resolved is stated as such', () => {
    const out = checkSources([makeEntry({ name: 'g', source: 'git' })], makePolicy())
    expect(out[0].message).toContain('no resolved URL')
  })

  it('reports each offending entry once, in input order', () => {
    const out = checkSources([
      makeEntry({ name: 'g', source: 'git' }),
      makeEntry({ name: 'r', source: 'registry' }),
      makeEntry({ name: 'f', source: 'file' }),
      makeEntry({ name: 'd', source: 'directory', bundled: true }),
      makeEntry({ name: 'u', source: 'remote' }),
    ], makePolicy())
    expect(out.map(v => v.package)).toEqual(['g@1.0.0', 'f@1.0.0', 'u@1.0.0'])
    expect(out.map(v => v.code)).toEqual(['ESIGIT', 'ESIFILE', 'ESIREMOTE'])
  })
})
