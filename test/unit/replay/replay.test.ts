// The replay of an earlier run's verdicts (lib/replay.ts): refused whenever
// something it rests on is gone or changed, otherwise the earlier evidence
// with what depends on the clock brought up to date.
import { describe, expect, it } from 'vitest'
import type { CheckContext, EvidenceCheck } from '../../../lib/evidence/check.js'
import { createReleaseAgeCheck } from '../../../lib/evidence/release-age.js'
import { checkInputs, REPLAY_VERSION, replayPackages, replayVerdicts, isReplayData, type ReplayData } from '../../../lib/replay.js'
import type { Plan, PackageEvidence } from '../../../lib/types.js'
import { optionsWith, planEntry, policyWith } from '../../helpers/model.js'

const DAY = 86_400_000
const NOW = Date.parse('2026-11-26T12:00:00Z')
const a = planEntry({ name: 'a', integrity: 'sha512-aaaa' })
const b = planEntry({ name: 'b', integrity: 'sha512-bbbb' })
const bundled = planEntry({ name: 'c', location: 'node_modules/b/node_modules/c', bundled: true })
const plan: Plan = { root: '/project', rootName: 'p', rootVersion: '1.0.0', lockfile: 'package-lock.json', entries: [a, bundled, b], rootDependencies: [], workspaces: [] }

function ctxWith (policy = policyWith()): CheckContext {
  return {
    options: optionsWith(policy),
    plan,
    fetchJson: async () => undefined,
    postJson: async () => undefined,
    fullPackument: async () => undefined,
    facts: { get: async () => undefined, set: async () => {} },
    note: () => { throw new Error('a replay adds no notes of its own') },
  }
}

const keysCheck = (fingerprint: string): EvidenceCheck => ({ name: 'signatures', inputs: async () => fingerprint })

function prior (over: Partial<ReplayData> = {}): ReplayData {
  const ev = (published: string): PackageEvidence => ({
    integritySource: 'network',
    scripts: [],
    signature: { status: 'verified', keyid: 'k1' },
    releaseAge: { status: 'ok', published, ageDays: 10 },
  })
  return {
    v: REPLAY_VERSION,
    packages: {
      'node_modules/a': { integrity: 'sha512-aaaa', tarballUrl: 'https://r.test/a/-/a-1.0.0.tgz', registry: 'https://r.test/' },
      'node_modules/b': { integrity: 'sha512-bbbb', tarballUrl: 'https://r.test/b/-/b-1.0.0.tgz', registry: 'https://r.test/' },
    },
    evidence: {
      'node_modules/a': ev(new Date(NOW - 40 * DAY).toISOString()),
      'node_modules/b': ev(new Date(NOW - 30 * DAY).toISOString()),
      'node_modules/b/node_modules/c': { integritySource: 'bundled', scripts: [] },
    },
    warnings: [],
    notes: [],
    inputs: { signatures: 'keys-v1' },
    scriptsSkipped: [],
    ...over,
  }
}

const all = () => true

/** replayPackages then replayVerdicts, as the pipeline calls them */
async function rv (p: ReplayData, pl: Plan, checks: EvidenceCheck[], ctx: CheckContext, held: (i: string) => boolean) {
  const pkgs = replayPackages(p, pl, held)
  return pkgs && replayVerdicts(p, pl, pkgs, checks, ctx)
}

describe('replayVerdicts', () => {
  it('replays every package with the store holding it and the same run-wide inputs', async () => {
    const r = await rv(prior(), plan, [keysCheck('keys-v1')], ctxWith(), all)
    expect(r).toBeDefined()
    expect([...r!.verified.keys()]).toEqual(['node_modules/a', 'node_modules/b'])
    expect(r!.verified.get('node_modules/a')).toMatchObject({ integrity: 'sha512-aaaa', from: 'cache', registry: 'https://r.test/' })
    // the bytes come from the store in this run
    expect(r!.evidence.get('node_modules/a')).toMatchObject({ integritySource: 'cache', signature: { status: 'verified', keyid: 'k1' } })
    expect(r!.evidence.get('node_modules/b/node_modules/c')).toEqual({ integritySource: 'bundled', scripts: [] })
  })

  it('is refused when a registry key changed, a store entry is gone, or the plan has a package it did not verify', async () => {
    expect(await rv(prior(), plan, [keysCheck('keys-v2')], ctxWith(), all)).toBeUndefined()
    expect(await rv(prior(), plan, [keysCheck('keys-v1')], ctxWith(), i => i !== 'sha512-bbbb')).toBeUndefined()
    const d = planEntry({ name: 'd', integrity: 'sha512-dddd' })
    expect(await rv(prior(), { ...plan, entries: [...plan.entries, d] }, [keysCheck('keys-v1')], ctxWith(), all)).toBeUndefined()
    const p = prior()
    const { 'node_modules/b': _, ...fewer } = p.packages
    expect(await rv({ ...p, packages: fewer }, plan, [], ctxWith(), all)).toBeUndefined()
  })

  it('brings a release age up to date, and reruns a cooldown that had not ended', async () => {
    const check = createReleaseAgeCheck({ now: () => NOW })
    const ctx = ctxWith(policyWith({ minReleaseAgeDays: 7 }))
    const r = await rv(prior(), plan, [check], ctx, all)
    expect(r!.evidence.get('node_modules/a')!.releaseAge).toMatchObject({ status: 'ok', ageDays: 40 })
    const p = prior()
    const tooNew = { ...p.evidence, 'node_modules/b': { ...p.evidence['node_modules/b'], releaseAge: { status: 'too-new' as const, published: new Date(NOW - DAY).toISOString(), ageDays: 1 } } }
    expect(await rv({ ...p, evidence: tooNew }, plan, [check], ctx, all)).toBeUndefined()
  })

  it('checkInputs asks each check with inputs, quietly', async () => {
    const noisy: EvidenceCheck = { name: 'provenance', inputs: async (_p, ctx) => { ctx.note({ check: 'x', level: 'info', message: 'm' }); return 'root' } }
    expect(await checkInputs([keysCheck('k'), noisy, { name: 'scan' }], [], ctxWith())).toEqual({ signatures: 'k', provenance: 'root' })
  })

  it('isReplayData accepts only its own version and shape', () => {
    expect(isReplayData(prior())).toBe(true)
    expect(isReplayData({ ...prior(), v: REPLAY_VERSION + 1 })).toBe(false)
    expect(isReplayData({ ...prior(), warnings: undefined })).toBe(false)
    expect(isReplayData(null)).toBe(false)
  })
})
