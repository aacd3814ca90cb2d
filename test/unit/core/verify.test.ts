import crypto from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { integrityAgrees, pickIntegrity } from '../../../lib/fetch/verify.js'

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
