import { describe, expect, it } from 'vitest'

import { parseSafeInstallField, SETTINGS } from '../../../lib/config/safe-install-field.js'

const parse = (field: unknown) => parseSafeInstallField(field)

/** One valid and a few invalid values per kind. */
function samples (kind: (typeof SETTINGS)[string]['kind']): { good: unknown[], bad: unknown[] } {
  if (kind === 'boolean') return { good: [true, false], bad: ['true', 0, 1, null, {}] }
  if (kind === 'number') return { good: [0, 3, 1.5], bad: [-1, '3', Number.NaN, Number.POSITIVE_INFINITY, null, true] }
  if (kind === 'string') return { good: ['https://example.com/'], bad: ['', 3, null, ['x']] }
  if (kind === 'string[]') return { good: [[], ['a', '@scope/*']], bad: ['a', [1], ['a', 2], { 0: 'a' }, null] }
  return { good: [...kind.enum], bad: ['nope', kind.enum[0].toUpperCase(), 1, null, [kind.enum[0]]] }
}

describe('parseSafeInstallField: absent or wrong shape', () => {
  it('undefined and null: no settings, no problems', () => {
    expect(parse(undefined)).toEqual({ settings: {}, problems: [] })
    expect(parse(null)).toEqual({ settings: {}, problems: [] })
  })

  it('an empty object: no settings, no problems', () => {
    expect(parse({})).toEqual({ settings: {}, problems: [] })
  })

  it('a non-object is one problem', () => {
    for (const v of ['x', 1, true, ['allowGit']]) {
      const r = parse(v)
      expect(r.settings).toEqual({})
      expect(r.problems).toEqual(['"safeInstall" in package.json must be an object'])
    }
  })
})

describe('parseSafeInstallField: every setting', () => {
  for (const [key, def] of Object.entries(SETTINGS)) {
    const { good, bad } = samples(def.kind)
    it(`${key}: valid values set policy field ${String(def.field)}`, () => {
      for (const value of good) {
        const r = parse({ [key]: value })
        expect(r.problems, JSON.stringify(value)).toEqual([])
        expect(r.settings).toEqual({ [def.field]: value })
      }
    })
    it(`${key}: invalid values are reported and not set`, () => {
      for (const value of bad) {
        const r = parse({ [key]: value })
        expect(r.settings, JSON.stringify(value)).toEqual({})
        expect(r.problems).toHaveLength(1)
        expect(r.problems[0]).toMatch(new RegExp(`^safeInstall\\.${key}: expected `))
      }
    })
  }

  it('enum problems list the allowed values and echo the given one', () => {
    const r = parse({ allowGit: 'some' })
    expect(r.problems).toEqual(['safeInstall.allowGit: expected one of all, none, root, got "some"'])
  })

  it('renamed keys map to their policy field', () => {
    const r = parse({ trustPolicy: 'no-downgrade', minReleaseAge: 7, advisories: ['osv/'], provenanceRequire: ['@corp/*'] })
    expect(r.problems).toEqual([])
    expect(r.settings).toEqual({ trust: 'no-downgrade', minReleaseAgeDays: 7, advisoryFiles: ['osv/'], provenanceRequireFor: ['@corp/*'] })
  })

  it('good settings survive next to bad ones', () => {
    const r = parse({ allowGit: 'root', scan: 'yes', minReleaseAge: 2 })
    expect(r.settings).toEqual({ allowGit: 'root', minReleaseAgeDays: 2 })
    expect(r.problems).toEqual(['safeInstall.scan: expected true or false, got "yes"'])
  })
})

describe('parseSafeInstallField: unknown keys', () => {
  it('an unknown key is reported, listing the known ones including record', () => {
    const r = parse({ allowGIT: 'all' })
    expect(r.settings).toEqual({})
    expect(r.problems).toHaveLength(1)
    expect(r.problems[0]).toMatch(/^unknown setting safeInstall\.allowGIT \(known: /)
    for (const k of [...Object.keys(SETTINGS), 'record']) expect(r.problems[0]).toContain(k)
  })

  it('a policy field name that is not a setting key is unknown (trust is spelled trustPolicy)', () => {
    expect(parse({ trust: 'report' }).problems[0]).toMatch(/^unknown setting safeInstall\.trust /)
  })

  it('keys named like Object.prototype members are reported as unknown, not a crash', () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const field = JSON.parse(`{"${key}": true}`)
      const r = parse(field)
      expect(r.settings, key).toEqual({})
      expect(r.problems).toHaveLength(1)
      expect(r.problems[0]).toMatch(new RegExp(`^unknown setting safeInstall\\.${key} `))
    }
  })
})

describe('parseSafeInstallField: record', () => {
  it('true / false set enabled', () => {
    expect(parse({ record: true })).toEqual({ settings: { record: { enabled: true } }, problems: [] })
    expect(parse({ record: false })).toEqual({ settings: { record: { enabled: false } }, problems: [] })
  })

  it('an object with enabled and specVersion', () => {
    expect(parse({ record: { enabled: false, specVersion: '1.7' } }))
      .toEqual({ settings: { record: { enabled: false, specVersion: '1.7' } }, problems: [] })
    expect(parse({ record: { specVersion: '1.6' } })).toEqual({ settings: { record: { specVersion: '1.6' } }, problems: [] })
    expect(parse({ record: {} })).toEqual({ settings: { record: {} }, problems: [] })
  })

  it('bad enabled and specVersion are reported separately, the good part kept', () => {
    const r = parse({ record: { enabled: 'yes', specVersion: '1.5' } })
    expect(r.settings).toEqual({ record: {} })
    expect(r.problems).toEqual([
      'safeInstall.record.enabled: expected true or false',
      'safeInstall.record.specVersion: expected "1.6" or "1.7"',
    ])
    const r2 = parse({ record: { enabled: true, specVersion: 1.6 } })
    expect(r2.settings).toEqual({ record: { enabled: true } })
    expect(r2.problems).toEqual(['safeInstall.record.specVersion: expected "1.6" or "1.7"'])
  })

  it('other record values are one problem', () => {
    for (const v of ['yes', 1, null, 0]) {
      const r = parse({ record: v })
      expect(r.problems, JSON.stringify(v)).toEqual(['safeInstall.record: expected true, false or { enabled, specVersion }'])
      expect(r.settings).toEqual({ record: {} })
    }
  })
})
