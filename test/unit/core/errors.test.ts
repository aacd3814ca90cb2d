import { describe, expect, it } from 'vitest'

import { ERROR_CODES, EXIT, exitCodeFor, SafeInstallError, type ErrorCode } from '../../../lib/errors.js'

const EXIT_VALUES = new Set<number>(Object.values(EXIT))

describe('EXIT', () => {
  it('has distinct values, OK is 0', () => {
    expect(EXIT.OK).toBe(0)
    expect(EXIT_VALUES.size).toBe(Object.keys(EXIT).length)
  })
})

describe('ERROR_CODES', () => {
  const entries = Object.entries(ERROR_CODES)

  it('is not empty', () => {
    expect(entries.length).toBeGreaterThan(10)
  })

  it.each(entries)('%s starts with ESI, has a known non-zero exit code and a summary', (code, info) => {
    expect(code).toMatch(/^ESI[A-Z0-9]+$/)
    expect(EXIT_VALUES.has(info.exit)).toBe(true)
    expect(info.exit).not.toBe(EXIT.OK)
    expect(typeof info.summary).toBe('string')
    expect(info.summary.length).toBeGreaterThan(0)
  })

  it('transport codes exit with TRANSPORT, policy refusals with REFUSED', () => {
    for (const c of ['ESISTRICTSSL', 'ESITLSENV', 'ESIHTTPREGISTRY', 'ESICAFILE'] as ErrorCode[]) expect(ERROR_CODES[c].exit).toBe(EXIT.TRANSPORT)
    for (const c of ['ESIGIT', 'ESIREMOTE', 'ESIFILE', 'ESIDIRECTORY', 'ESIHTTPURL', 'ESIFOREIGNHOST', 'ESIURLPATH', 'ESINOINTEGRITY', 'ESITARPATH', 'ESITARLINK', 'ESIBINPATH'] as ErrorCode[]) {
      expect(ERROR_CODES[c].exit, c).toBe(EXIT.REFUSED)
    }
    expect(ERROR_CODES.ESIUSAGE.exit).toBe(EXIT.USAGE)
    expect(ERROR_CODES.ESIBUSY.exit).toBe(EXIT.BUSY)
    expect(ERROR_CODES.ESIWRITE.exit).toBe(EXIT.WRITE)
    expect(ERROR_CODES.ESIINTERNAL.exit).toBe(EXIT.INTERNAL)
    expect(ERROR_CODES.ESIADVISORY.exit).toBe(EXIT.ADVISORY)
    expect(ERROR_CODES.ESIFETCH.exit).toBe(EXIT.NETWORK)
  })
})

describe('exitCodeFor', () => {
  it('no violations: REFUSED (the caller only asks when refusing)', () => {
    expect(exitCodeFor([])).toBe(EXIT.REFUSED)
  })

  it('the first violation decides', () => {
    expect(exitCodeFor([{ code: 'ESISTRICTSSL' }, { code: 'ESIGIT' }])).toBe(EXIT.TRANSPORT)
    expect(exitCodeFor([{ code: 'ESIGIT' }, { code: 'ESISTRICTSSL' }])).toBe(EXIT.REFUSED)
    expect(exitCodeFor([{ code: 'ESIADVISORY' }])).toBe(EXIT.ADVISORY)
    expect(exitCodeFor([{ code: 'ESIOFFLINE' }])).toBe(EXIT.NETWORK)
  })

  it('unknown codes are skipped in favour of the first known one', () => {
    expect(exitCodeFor([{ code: 'EWHATEVER' }, { code: 'ESIBUSY' }])).toBe(EXIT.BUSY)
  })

  it('only unknown codes: REFUSED', () => {
    expect(exitCodeFor([{ code: 'EWHATEVER' }, { code: 'ENOENT' }])).toBe(EXIT.REFUSED)
  })

  it('agrees with the table for every code', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) expect(exitCodeFor([{ code }]), code).toBe(info.exit)
  })
})

describe('SafeInstallError', () => {
  it('carries code, exit code and extras', () => {
    const cause = new Error('root cause')
    const v = [{ code: 'ESIGIT', message: 'm' }]
    const e = new SafeInstallError('ESIHTTPREGISTRY', 'msg', { violations: v, package: 'a@1', path: 'node_modules/a', fix: 'do x', cause })
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('SafeInstallError')
    expect(e.message).toBe('msg')
    expect(e.code).toBe('ESIHTTPREGISTRY')
    expect(e.exitCode).toBe(EXIT.TRANSPORT)
    expect(e.violations).toBe(v)
    expect(e).toMatchObject({ package: 'a@1', path: 'node_modules/a', fix: 'do x' })
    expect(e.cause).toBe(cause)
  })

  it('defaults: no violations, no cause', () => {
    const e = new SafeInstallError('ESIUSAGE', 'bad flag')
    expect(e.violations).toEqual([])
    expect(e.exitCode).toBe(EXIT.USAGE)
    expect('cause' in e).toBe(false)
  })
})
