import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  affectedRange, cvssScore, indexOsv, isOsvMalware, loadOsvFiles, matchOsv, osvSeverity, parseOsvJson, versionInEvents,
  type OsvRecord,
} from '../../../lib/evidence/osv.js'

const ghsa: OsvRecord = {
  id: 'GHSA-35jh-r3h4-6jhm',
  summary: 'Command Injection in lodash',
  aliases: ['CVE-2021-23337'],
  affected: [{
    package: { ecosystem: 'npm', name: 'lodash' },
    ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }],
  }],
  database_specific: { severity: 'HIGH', cwe_ids: ['CWE-77'] },
  references: [{ type: 'ADVISORY', url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-23337' }],
}

const semverRanges: OsvRecord = {
  id: 'OSV-TEST-1',
  summary: 'two ranges',
  affected: [{
    package: { ecosystem: 'npm', name: 'multi' },
    ranges: [{
      type: 'SEMVER',
      events: [{ introduced: '1.0.0' }, { fixed: '1.2.0' }, { introduced: '2.0.0' }, { last_affected: '2.1.3' }],
    }],
  }],
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
}

const listed: OsvRecord = {
  id: 'OSV-TEST-2',
  summary: 'listed versions only',
  affected: [{ package: { ecosystem: 'npm', name: 'listed' }, versions: ['0.3.1', '0.3.2'] }],
  database_specific: { severity: 'MODERATE' },
}

const mal: OsvRecord = {
  id: 'MAL-2025-1234',
  summary: 'Malicious code in evil-pkg (npm)',
  affected: [{ package: { ecosystem: 'npm', name: 'evil-pkg' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }],
}

const otherEcosystem: OsvRecord = {
  id: 'PYSEC-1',
  affected: [{ package: { ecosystem: 'PyPI', name: 'lodash' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }],
}

const withdrawn: OsvRecord = { ...ghsa, id: 'GHSA-xxxx-xxxx-xxxx', withdrawn: '2024-01-01T00:00:00Z' }

describe('OSV matching', () => {
  const index = indexOsv([ghsa, semverRanges, listed, mal, otherEcosystem, withdrawn])

  it('matches ECOSYSTEM/SEMVER introduced..fixed ranges', () => {
    expect(matchOsv(index, 'lodash', '4.17.20').map(f => f.id)).toEqual(['GHSA-35jh-r3h4-6jhm'])
    expect(matchOsv(index, 'lodash', '4.17.21')).toEqual([])
    expect(matchOsv(index, 'lodash', '5.0.0')).toEqual([])
    const [f] = matchOsv(index, 'lodash', '1.0.0')
    expect(f).toMatchObject({ severity: 'high', malware: false, source: 'osv', range: '>=0.0.0 <4.17.21' })
    expect(f.url).toBe('https://nvd.nist.gov/vuln/detail/CVE-2021-23337')
  })

  it('handles several intervals and last_affected', () => {
    expect(matchOsv(index, 'multi', '0.9.0')).toEqual([])
    expect(matchOsv(index, 'multi', '1.0.0')[0]?.range).toBe('>=1.0.0 <1.2.0')
    expect(matchOsv(index, 'multi', '1.1.9')).toHaveLength(1)
    expect(matchOsv(index, 'multi', '1.2.0')).toEqual([])
    expect(matchOsv(index, 'multi', '1.5.0')).toEqual([])
    expect(matchOsv(index, 'multi', '2.1.3')[0]?.range).toBe('>=2.0.0 <=2.1.3')
    expect(matchOsv(index, 'multi', '2.1.4')).toEqual([])
    // severity from the CVSS vector (9.8)
    expect(matchOsv(index, 'multi', '2.0.0')[0]?.severity).toBe('critical')
  })

  it('matches exact versions lists', () => {
    expect(matchOsv(index, 'listed', '0.3.2')).toMatchObject([{ id: 'OSV-TEST-2', severity: 'moderate' }])
    expect(matchOsv(index, 'listed', '0.3.3')).toEqual([])
  })

  it('flags MAL- ids as malware, every version', () => {
    const [f] = matchOsv(index, 'evil-pkg', '9.9.9')
    expect(f).toMatchObject({ id: 'MAL-2025-1234', malware: true, severity: 'critical' })
    expect(isOsvMalware({ id: 'GHSA-aaaa-bbbb-cccc', aliases: ['MAL-2024-1'] })).toBe(true)
    expect(isOsvMalware({ id: 'X', database_specific: { cwe_ids: ['CWE-506'] } })).toBe(true)
    expect(isOsvMalware({ id: 'X', summary: 'Malware in foo' })).toBe(true)
    expect(isOsvMalware(ghsa)).toBe(false)
  })

  it('ignores other ecosystems, withdrawn records and GIT ranges', () => {
    expect(index.get('lodash')).toHaveLength(1)
    expect(affectedRange({ ranges: [{ type: 'GIT', events: [{ introduced: '0' }] }] }, '1.0.0')).toBeUndefined()
  })

  it('evaluates unsorted events and limit', () => {
    expect(versionInEvents('1.5.0', [{ fixed: '2.0.0' }, { introduced: '1.0.0' }])).toBe('>=1.0.0 <2.0.0')
    expect(versionInEvents('3.0.0', [{ introduced: '0' }, { limit: '2.0.0' }])).toBeUndefined()
    expect(versionInEvents('1.0.0', [{ introduced: '0' }, { limit: '2.0.0' }])).toBe('>=0.0.0')
    expect(versionInEvents('1.0.0-beta.1', [{ introduced: '0' }, { fixed: '1.0.0' }])).toBe('>=0.0.0 <1.0.0')
    expect(versionInEvents('not-a-version', [{ introduced: '0' }])).toBeUndefined()
  })

  it('reads severity from database_specific or CVSS', () => {
    expect(osvSeverity({ id: 'a', database_specific: { severity: 'CRITICAL' } })).toBe('critical')
    expect(osvSeverity({ id: 'a', database_specific: { severity: 'MEDIUM' } })).toBe('moderate')
    expect(osvSeverity({ id: 'a', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:N/A:N' }] })).toBe('moderate')
    expect(osvSeverity({ id: 'a', severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }] })).toBeUndefined()
    expect(cvssScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBe(9.8)
    expect(cvssScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H')).toBe(10)
    expect(cvssScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N')).toBe(6.1)
    expect(cvssScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N')).toBe(5.3)
    expect(cvssScore('CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H')).toBe(7.5)
    expect(cvssScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N')).toBe(0)
    expect(cvssScore('7.5')).toBe(7.5)
  })

  it('accepts a record, an array or an OSV API answer', () => {
    expect(parseOsvJson(ghsa)).toHaveLength(1)
    expect(parseOsvJson([ghsa, mal, { nope: 1 }])).toHaveLength(2)
    expect(parseOsvJson({ vulns: [mal] })).toHaveLength(1)
    expect(parseOsvJson({ nope: 1 })).toBeUndefined()
  })
})

describe('loadOsvFiles', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'si-osv-'))
    await mkdir(join(dir, 'osv', 'nested'), { recursive: true })
    await writeFile(join(dir, 'osv', 'GHSA-35jh-r3h4-6jhm.json'), JSON.stringify(ghsa))
    await writeFile(join(dir, 'osv', 'nested', 'MAL-2025-1234.json'), JSON.stringify(mal))
    await writeFile(join(dir, 'osv', 'README.md'), 'not json')
    await writeFile(join(dir, 'osv', 'broken.json'), '{')
    await writeFile(join(dir, 'all.json'), JSON.stringify([listed, semverRanges]))
  })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('reads a directory (recursively) and an array file, reporting bad files', async () => {
    const r = await loadOsvFiles([join(dir, 'osv'), join(dir, 'all.json'), join(dir, 'missing.json')])
    expect(r.records.map(x => x.id).sort()).toEqual(['GHSA-35jh-r3h4-6jhm', 'MAL-2025-1234', 'OSV-TEST-1', 'OSV-TEST-2'])
    expect(r.files).toBe(3)
    expect(r.errors).toHaveLength(2)
    expect(r.errors.join('\n')).toMatch(/broken\.json/)
    expect(r.errors.join('\n')).toMatch(/missing\.json/)
  })
})
