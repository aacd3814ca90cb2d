import { describe, expect, it } from 'vitest'

import { checkIntegrityPresence, hasSha512 } from '../../../lib/policy/integrity.js'
import type { SourceType } from '../../../lib/types.js'
import { makeEntry, makePolicy, sha1, sha512 } from './helpers.js'

describe('hasSha512', () => {
  it('true for a sha512 integrity', () => {
    expect(hasSha512(sha512())).toBe(true)
  })
  it('false for missing, empty, sha1-only and sha256-only', () => {
    expect(hasSha512(undefined)).toBe(false)
    expect(hasSha512('')).toBe(false)
    expect(hasSha512(sha1())).toBe(false)
    expect(hasSha512('sha256-' + Buffer.alloc(32, 1).toString('base64'))).toBe(false)
  })
  it('finds sha512 anywhere in a multi-hash string, whatever the whitespace', () => {
    expect(hasSha512(`${sha1()} ${sha512()}`)).toBe(true)
    expect(hasSha512(`${sha512()} ${sha1()}`)).toBe(true)
    expect(hasSha512(`${sha1()}\n\t${sha512()}`)).toBe(true)
  })
  it('a hash that merely contains "sha512-" later in its text does not count', () => {
    expect(hasSha512('sha1-abcsha512-def')).toBe(false)
  })
})

describe('checkIntegrityPresence', () => {
  it('missing integrity on a registry entry is refused with ESINOINTEGRITY', () => {
    const out = checkIntegrityPresence([makeEntry({ name: 'a' })], makePolicy())
    expect(out).toHaveLength(1)
    expect(out[0]).toMatchObject({ code: 'ESINOINTEGRITY', package: 'a@1.0.0', path: 'node_modules/a' })
    expect(out[0].message).toMatch(/no integrity/)
    expect(out[0].fix).toMatch(/--allow-missing-integrity/)
  })

  it('sha1-only is refused and the message names the weak algorithm', () => {
    const out = checkIntegrityPresence([makeEntry({ name: 'a', integrity: sha1() })], makePolicy())
    expect(out.map(v => v.code)).toEqual(['ESINOINTEGRITY'])
    expect(out[0].message).toContain('pinned only by sha1')
    expect(out[0].message).toMatch(/too weak/)
  })

  it('sha512 is accepted', () => {
    expect(checkIntegrityPresence([makeEntry({ name: 'a', integrity: sha512() })], makePolicy())).toEqual([])
  })

  it('a multi-hash string with sha1 and sha512 is accepted', () => {
    expect(checkIntegrityPresence([makeEntry({ name: 'a', integrity: `${sha1()} ${sha512()}` })], makePolicy())).toEqual([])
  })

  it('applies to registry, remote and file sources', () => {
    for (const source of ['registry', 'remote', 'file'] as SourceType[]) {
      expect(checkIntegrityPresence([makeEntry({ name: 'a', source })], makePolicy()).map(v => v.code), source)
        .toEqual(['ESINOINTEGRITY'])
    }
  })

  it('git, directory, link and workspace entries have no tarball integrity to check', () => {
    const entries = (['git', 'directory', 'link', 'workspace'] as SourceType[]).map(source => makeEntry({ name: `x-${source}`, source }))
    expect(checkIntegrityPresence(entries, makePolicy())).toEqual([])
  })

  it('bundled entries are ignored', () => {
    expect(checkIntegrityPresence([makeEntry({ name: 'a', bundled: true })], makePolicy())).toEqual([])
  })

  it('allowMissingIntegrity accepts missing and weak integrities', () => {
    const entries = [makeEntry({ name: 'a' }), makeEntry({ name: 'b', integrity: sha1() })]
    expect(checkIntegrityPresence(entries, makePolicy({ allowMissingIntegrity: true }))).toEqual([])
  })

  it('reports only the bad entries, in order', () => {
    const entries = [
      makeEntry({ name: 'ok', integrity: sha512() }),
      makeEntry({ name: 'none' }),
      makeEntry({ name: 'weak', integrity: sha1() }),
      makeEntry({ name: 'link', source: 'link' }),
    ]
    expect(checkIntegrityPresence(entries, makePolicy()).map(v => v.package)).toEqual(['none@1.0.0', 'weak@1.0.0'])
  })
})
