import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { Budget } from '../../../lib/fetch/budget.js'
import { storePaths } from '../../../lib/fetch/store.js'
import { integrityAgrees, pickIntegrity, verifyEntry, type VerifyDeps } from '../../../lib/fetch/verify.js'
import type { PlanEntry } from '../../../lib/types.js'
import { integrityOf, makeTarball } from '../../fixtures/registry/tarball.js'

const sri = (algo: string, data: string) => `${algo}-${crypto.createHash(algo).update(data).digest('base64')}`
const A512 = sri('sha512', 'a')
const B512 = sri('sha512', 'b')
const A1 = sri('sha1', 'a')
const B1 = sri('sha1', 'b')
const A256 = sri('sha256', 'a')

describe('pickIntegrity', () => {
  it('a single sha512 comes back as is', () => {
    expect(pickIntegrity(A512)).toBe(A512)
  })

  it('picks sha512 out of a multi-hash string, whatever the order', () => {
    expect(pickIntegrity(`${A1} ${A512}`)).toBe(A512)
    expect(pickIntegrity(`${A512} ${A1}`)).toBe(A512)
    expect(pickIntegrity(`${A1} ${A256} ${A512}`)).toBe(A512)
  })

  it('sha256 beats sha1; sha1 alone is kept', () => {
    expect(pickIntegrity(`${A1} ${A256}`)).toBe(A256)
    expect(pickIntegrity(A1)).toBe(A1)
  })

  it('refuses two digests of the strongest algorithm: either set of bytes would pass while the evidence speaks for one', () => {
    expect(() => pickIntegrity(`${A512} ${A1} ${B512}`)).toThrow(/ambiguous integrity: 2 sha512 digests/)
  })

  it('tolerates surrounding and repeated whitespace', () => {
    expect(pickIntegrity(`  ${A1}\n\t${A512}  `)).toBe(A512)
  })
})

describe('integrityAgrees', () => {
  it('the same sha512 agrees', () => {
    expect(integrityAgrees(A512, A512)).toBe(true)
  })

  it('a different sha512 disagrees (republished bytes)', () => {
    expect(integrityAgrees(B512, A512)).toBe(false)
  })

  it('only shared algorithms are compared', () => {
    expect(integrityAgrees(A512, `${A1} ${A512}`)).toBe(true)
    expect(integrityAgrees(`${B1} ${A512}`, A512)).toBe(true)
    expect(integrityAgrees(A512, `${B1} ${A512}`)).toBe(true)
  })

  it('every shared algorithm must agree', () => {
    expect(integrityAgrees(`${A1} ${A512}`, `${B1} ${A512}`)).toBe(false)
    expect(integrityAgrees(`${A1} ${B512}`, `${A1} ${A512}`)).toBe(false)
  })

  it('nothing in common (sha1 vs sha512) is not a disagreement: the bytes are still checked', () => {
    expect(integrityAgrees(A1, B512)).toBe(true)
    expect(integrityAgrees(B512, A1)).toBe(true)
  })

  it('several hashes of one algorithm: any match on each side agrees', () => {
    expect(integrityAgrees(`${B512} ${A512}`, A512)).toBe(true)
    expect(integrityAgrees(A512, `${B512} ${A512}`)).toBe(true)
    const C512 = sri('sha512', 'c')
    expect(integrityAgrees(`${B512} ${C512}`, A512)).toBe(false)
  })

  it('is symmetric on these cases', () => {
    const cases: [string, string][] = [[A512, A512], [A512, B512], [A1, A512], [`${A1} ${A512}`, `${B1} ${A512}`]]
    for (const [a, b] of cases) expect(integrityAgrees(a, b)).toBe(integrityAgrees(b, a))
  })
})

describe('verifyEntry and the tarball budget', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-verify-budget-'))
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

  /** A `file:` entry (read from disk, no registry) with the integrity of `data`. */
  function fileEntry (name: string, data: Buffer): PlanEntry {
    fs.writeFileSync(path.join(tmp, `${name}.tgz`), data)
    return {
      location: `node_modules/${name}`, name, installName: name, version: '1.0.0', resolved: `file:${name}.tgz`,
      integrity: integrityOf(data), source: 'file', dev: false, optional: false, devOptional: false, peer: false,
      bundled: false, hasInstallScript: false, isRootDependency: true, dependencies: [],
    } as PlanEntry
  }
  const deps = (budget: Budget): VerifyDeps => ({
    options: { prefix: tmp, offline: false, npmFlat: {} } as any,
    client: undefined as any,
    packuments: undefined as any,
    paths: storePaths(path.join(tmp, 'cache')),
    registries: { registry: 'https://registry.example/', scopedRegistries: {}, defaultRegistry: 'https://registry.example/' } as any,
    urls: new Map(),
    budget,
  })

  it('a verified package holds its bytes in the budget until release()', async () => {
    const budget = new Budget(1 << 30)
    const outcome = await verifyEntry(fileEntry('good', makeTarball({ 'package.json': JSON.stringify({ name: 'good', version: '1.0.0' }) })), deps(budget))
    expect(outcome.ok).toBe(true)
    expect(budget.held).toBeGreaterThan(0)
    if (outcome.ok) outcome.release()
    expect(budget.held).toBe(0)
  })

  it('a refused package gives its bytes back at once: later large packages do not wait for it forever', async () => {
    const budget = new Budget(1 << 30)
    const noManifest = await verifyEntry(fileEntry('bare', makeTarball({ 'index.js': '1\n' })), deps(budget))
    expect(noManifest.ok).toBe(false)
    expect(noManifest.violations.map(v => v.code)).toEqual(['ESIMANIFEST'])
    const escape = await verifyEntry(fileEntry('escape', makeTarball({ 'package.json': JSON.stringify({ name: 'escape', version: '1.0.0' }) }, [
      { path: 'package/../../evil.js', type: 'file', content: 'x\n' },
    ])), deps(budget))
    expect(escape.ok).toBe(false)
    expect(budget.held).toBe(0)
  })
})
