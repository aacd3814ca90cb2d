import { describe, expect, it, vi } from 'vitest'
import { scanCheck, SCAN_FACT_KIND } from '../../../lib/evidence/scan/index.js'
import type { CheckContext, FactCache } from '../../../lib/evidence/check.js'
import type { VerifiedPackage } from '../../../lib/types.js'
import { pkg } from './helpers.js'
import { PUBLIC_REGISTRY } from '../../helpers/registry-host.js'

function memoryFacts (): FactCache & { store: Map<string, unknown> } {
  const store = new Map<string, unknown>()
  return {
    store,
    async get (kind, key) { return store.get(`${kind}:${key}`) as any },
    async set (kind, key, value) { store.set(`${kind}:${key}`, value) },
  }
}

function ctx (facts: FactCache, scan = true): CheckContext {
  return { facts, options: { policy: { scan } } } as unknown as CheckContext
}

function verified (integrity: string, contents: Record<string, string>, readFile?: (p: string) => Buffer | undefined): VerifiedPackage {
  const input = pkg(contents)
  return {
    entry: { source: 'registry' } as any,
    integrity,
    from: 'network',
    tarballUrl: `${PUBLIC_REGISTRY}p/-/p-1.0.0.tgz`,
    registry: PUBLIC_REGISTRY,
    manifest: input.manifest,
    files: input.files,
    readFile: readFile ?? input.readFile,
  }
}

describe('scanCheck', () => {
  it('returns the scan as evidence and no violations', async () => {
    const r = await scanCheck.check!(verified('sha512-a', { 'index.js': "require('child_process')" }), ctx(memoryFacts()))
    expect(r).toEqual({ evidence: { scan: { capabilities: ['child_process'], findings: [{ capability: 'child_process', file: 'index.js', line: 1, detail: "require('child_process')" }] } } })
    expect(r.violations).toBeUndefined()
  })

  it('scans each integrity once: cached in the fact cache, and shared by concurrent checks', async () => {
    const facts = memoryFacts()
    const input = pkg({ 'index.js': 'eval(x)' })
    const readFile = vi.fn(input.readFile)
    const p = verified('sha512-b', { 'index.js': 'eval(x)' }, readFile)
    const [a, b] = await Promise.all([scanCheck.check!(p, ctx(facts)), scanCheck.check!(p, ctx(facts))])
    expect(a).toEqual(b)
    expect(facts.store.get(`${SCAN_FACT_KIND}:sha512-b`)).toEqual(a.evidence!.scan)
    const calls = readFile.mock.calls.length
    expect(calls).toBeGreaterThan(0)
    // a later run (new context, same cache) does not read the tarball again
    const again = await scanCheck.check!(p, ctx(facts))
    expect(again).toEqual(a)
    expect(readFile.mock.calls.length).toBe(calls)
    // a different cache holding the fact: no scan at all
    const other = memoryFacts()
    await other.set(SCAN_FACT_KIND, 'sha512-b', { capabilities: ['network'], findings: [] })
    expect(await scanCheck.check!(p, ctx(other))).toEqual({ evidence: { scan: { capabilities: ['network'], findings: [] } } })
    expect(readFile.mock.calls.length).toBe(calls)
  })

  it('does nothing when the scan is turned off', async () => {
    expect(await scanCheck.check!(verified('sha512-c', { 'index.js': 'eval(x)' }), ctx(memoryFacts(), false))).toEqual({})
  })
})

describe('scanCheck failures', () => {
  it('a scan that throws is noted, not fatal, and not cached', async () => {
    const facts = memoryFacts()
    const notes: unknown[] = []
    const c = { facts, options: { policy: { scan: true } }, note: (n: unknown) => notes.push(n) } as unknown as CheckContext
    const p = verified('sha512-d', { 'index.js': 'x' }, () => { throw new Error('boom') })
    expect(await scanCheck.check!({ ...p, entry: { name: 'p', version: '1.0.0', source: 'registry' } as any }, c)).toEqual({})
    expect(notes).toEqual([{ check: 'scan', level: 'warning', message: 'capability scan of p@1.0.0 failed: boom' }])
    expect(facts.store.size).toBe(0)
  })
})
