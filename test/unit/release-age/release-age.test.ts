import { describe, expect, it } from 'vitest'
import { isReleaseAgeExcluded, matchesNamePattern, releaseAgeOutcome } from '../../../lib/policy/release-age.js'
import { createReleaseAgeCheck, releaseAgeFix } from '../../../lib/evidence/release-age.js'
import { entry, fakeCtx, verified } from '../advisories/helpers.js'

const NOW = Date.parse('2025-06-10T00:00:00.000Z')
const DAY = 86_400_000
const iso = (ms: number) => new Date(ms).toISOString()

describe('release-age policy (pure)', () => {
  const base = { name: 'foo', now: NOW, minReleaseAgeDays: 7 }

  it('off when the cooldown is 0', () => {
    expect(releaseAgeOutcome({ ...base, minReleaseAgeDays: 0, published: iso(NOW) })).toEqual({ status: 'not-checked' })
  })

  it('ok when old enough, too-new when younger', () => {
    expect(releaseAgeOutcome({ ...base, published: iso(NOW - 10 * DAY) })).toEqual({ status: 'ok', published: iso(NOW - 10 * DAY), ageDays: 10 })
    const young = releaseAgeOutcome({ ...base, published: iso(NOW - 1.5 * DAY) })
    expect(young).toMatchObject({ status: 'too-new', ageDays: 1.5, availableAt: iso(NOW + 5.5 * DAY) })
  })

  it('exactly at the cutoff is old enough (as npm `before`)', () => {
    expect(releaseAgeOutcome({ ...base, published: iso(NOW - 7 * DAY) }).status).toBe('ok')
    expect(releaseAgeOutcome({ ...base, published: iso(NOW - 7 * DAY + 1) }).status).toBe('too-new')
  })

  it('fractional days', () => {
    expect(releaseAgeOutcome({ ...base, minReleaseAgeDays: 0.5, published: iso(NOW - 0.25 * DAY) }).status).toBe('too-new')
    expect(releaseAgeOutcome({ ...base, minReleaseAgeDays: 0.5, published: iso(NOW - 0.75 * DAY) }).status).toBe('ok')
  })

  it('unknown publish time', () => {
    expect(releaseAgeOutcome({ ...base })).toEqual({ status: 'unknown' })
    expect(releaseAgeOutcome({ ...base, published: 'garbage' })).toEqual({ status: 'unknown' })
  })

  it('excluded names and globs win, even without a time', () => {
    expect(releaseAgeOutcome({ ...base, exclude: ['foo'], published: iso(NOW) })).toMatchObject({ status: 'excluded', ageDays: 0 })
    expect(releaseAgeOutcome({ ...base, exclude: ['foo'] })).toEqual({ status: 'excluded' })
    expect(releaseAgeOutcome({ ...base, name: '@myorg/utils', exclude: ['@myorg/*'], published: iso(NOW) }).status).toBe('excluded')
    expect(releaseAgeOutcome({ ...base, name: '@other/utils', exclude: ['@myorg/*'], published: iso(NOW) }).status).toBe('too-new')
  })

  it('glob patterns as npm min-release-age-exclude', () => {
    expect(matchesNamePattern('@myorg/shared-utils', '@myorg/*')).toBe(true)
    expect(matchesNamePattern('@myorg', '@myorg/*')).toBe(false)
    expect(matchesNamePattern('@myorganisation/x', '@myorg/*')).toBe(false)
    expect(matchesNamePattern('@myorg/a', '*')).toBe(false) // * does not cross /
    expect(matchesNamePattern('lodash', '*')).toBe(true)
    expect(matchesNamePattern('@a/b', '**')).toBe(true)
    expect(matchesNamePattern('eslint-plugin-foo', 'eslint-plugin-*')).toBe(true)
    expect(matchesNamePattern('eslint-config-x', 'eslint-{plugin,config}-*')).toBe(true)
    expect(matchesNamePattern('lodash.get', 'lodash?get')).toBe(true)
    expect(matchesNamePattern('lodashXget', 'lodash.get')).toBe(false) // dots are literal
    expect(matchesNamePattern('foo', '!bar')).toBe(false) // no negation
    expect(isReleaseAgeExcluded('foo', ['bar', ' foo '])).toBe(true)
    expect(isReleaseAgeExcluded('foo', [])).toBe(false)
    expect(isReleaseAgeExcluded('foo', undefined)).toBe(false)
  })
})

describe('release-age check (fake context)', () => {
  const young = entry('young', '2.0.0')
  const old = entry('old', '1.0.0')
  const notime = entry('notime', '1.0.0')
  const scoped = entry('@myorg/lib', '1.0.0')
  const packuments: Record<string, any> = {
    young: { time: { '2.0.0': iso(NOW - 2 * DAY) } },
    old: { time: { '1.0.0': iso(NOW - 400 * DAY) } },
    notime: { versions: {} },
    '@myorg/lib': { time: { '1.0.0': iso(NOW) } },
  }
  const make = (policy: any) => fakeCtx({ policy, packument: async (name) => packuments[name] })
  const check = createReleaseAgeCheck({ now: () => NOW })

  it('refuses a version inside the cooldown with the exact exclusion setting', async () => {
    const ctx = make({ minReleaseAgeDays: 7 })
    const r = await check.check!(verified(young), ctx)
    expect(r.evidence?.releaseAge).toEqual({ status: 'too-new', published: iso(NOW - 2 * DAY), ageDays: 2 })
    expect(r.violations).toHaveLength(1)
    const v = r.violations![0]
    expect(v).toMatchObject({ code: 'ESITOONEW', package: 'young@2.0.0', path: 'node_modules/young' })
    expect(v.message).toContain(iso(NOW - 2 * DAY))
    expect(v.message).toContain('7-day')
    expect(v.fix).toContain('add "young" to safeInstall.minReleaseAgeExclude in package.json, or --min-release-age-exclude young')
    expect(v.fix).toContain(`wait until ${iso(NOW + 5 * DAY)}`)
  })

  it('passes old versions', async () => {
    const r = await check.check!(verified(old), make({ minReleaseAgeDays: 7 }))
    expect(r.evidence?.releaseAge?.status).toBe('ok')
    expect(r.violations).toEqual([])
  })

  it('excluded packages need no packument', async () => {
    const ctx = make({ minReleaseAgeDays: 7, minReleaseAgeExclude: ['@myorg/*'] })
    const r = await check.check!(verified(scoped), ctx)
    expect(r.evidence?.releaseAge?.status).toBe('excluded')
    expect(ctx.packuments).toEqual([])
  })

  it('unknown time: a warning note, no refusal', async () => {
    const ctx = make({ minReleaseAgeDays: 7 })
    await check.prepare!(ctx)
    const r = await check.check!(verified(notime), ctx)
    expect(r.evidence?.releaseAge?.status).toBe('unknown')
    expect(r.violations).toEqual([])
    await check.finish!([], ctx)
    expect(ctx.notes).toEqual([expect.objectContaining({ check: 'release-age', level: 'warning' })])
    expect(ctx.notes[0].message).toMatch(/release age unknown for 1 package\(s\).*notime@1.0.0/)
  })

  it('unknown time with strictReleaseAge: ESINOTIME', async () => {
    const ctx = make({ minReleaseAgeDays: 7, strictReleaseAge: true })
    const r = await check.check!(verified(notime), ctx)
    expect(r.violations).toEqual([expect.objectContaining({ code: 'ESINOTIME', package: 'notime@1.0.0' })])
    // a failing packument fetch is unknown too
    const failing = fakeCtx({ policy: { minReleaseAgeDays: 7, strictReleaseAge: true }, packument: async () => { throw new Error('ETIMEDOUT') } })
    const r2 = await check.check!(verified(young), failing)
    expect(r2.violations![0].message).toMatch(/ETIMEDOUT/)
    await check.finish!([], failing)
  })

  it('cooldown off: nothing fetched', async () => {
    const ctx = make({ minReleaseAgeDays: 0 })
    const r = await check.check!(verified(young), ctx)
    expect(r.evidence?.releaseAge?.status).toBe('not-checked')
    expect(ctx.packuments).toEqual([])
  })

  it('bundled and non-registry entries are not checked', async () => {
    const ctx = make({ minReleaseAgeDays: 7, strictReleaseAge: true })
    const b = await check.check!(verified(entry('young', '2.0.0', { bundled: true })), ctx)
    const g = await check.check!(verified(entry('young', '2.0.0', { source: 'git' })), ctx)
    expect(b.evidence?.releaseAge?.status).toBe('not-checked')
    expect(g.evidence?.releaseAge?.status).toBe('not-checked')
    expect(ctx.packuments).toEqual([])
  })

  it('fix text', () => {
    expect(releaseAgeFix('x')).toBe('add "x" to safeInstall.minReleaseAgeExclude in package.json, or --min-release-age-exclude x')
  })
})
