// The static capability scan (SCVS 4.17) through the real CLI: it informs
// (the --json evidence and the record), it never refuses.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { setup, type Setup } from '../helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

const SPAWNER = [
  '\'use strict\'',
  'const { execFile } = require(\'child_process\')',
  'module.exports = async function run () {',
  '  execFile(\'ls\')',
  '  const res = await fetch(\'https://example.invalid/x\')',
  '  return res.text()',
  '}',
  '',
].join('\n')

const evidenceOf = (report: any, name: string) => report.packages.find((p: any) => p.name === name)?.evidence

describe('capability scan', () => {
  it('a package using child_process and fetch has those capabilities; a plain one has none', async () => {
    s = await setup([
      { name: 'spawner', version: '1.0.0', files: { 'index.js': SPAWNER } },
      { name: 'plain', version: '1.0.0', files: { 'index.js': 'module.exports = (a, b) => a + b\n', 'README.md': 'uses child_process? no: fetch( nothing\n' } },
    ], { dependencies: { spawner: '1.0.0', plain: '1.0.0' } })
    const r = await s.siJson(['ci'])
    expect(r.code, r.stderr).toBe(0)

    const spawner = evidenceOf(r.report, 'spawner').scan
    expect(spawner.capabilities).toEqual(expect.arrayContaining(['child_process', 'network']))
    expect(spawner.capabilities).not.toContain('install-scripts')
    expect(spawner.findings).toContainEqual(expect.objectContaining({ capability: 'child_process', file: 'index.js', line: 2 }))
    expect(spawner.findings).toContainEqual(expect.objectContaining({ capability: 'network', file: 'index.js', line: 5 }))

    expect(evidenceOf(r.report, 'plain').scan).toEqual({ capabilities: [], findings: [] })

    // it informs, never refuses: both installed
    const nm = path.join(s.project.dir, 'node_modules')
    expect(fs.existsSync(path.join(nm, 'spawner/index.js'))).toBe(true)
    expect(fs.existsSync(path.join(nm, 'plain/index.js'))).toBe(true)

    // the record carries the same
    const doc = JSON.parse(fs.readFileSync(path.join(nm, '.safe-install/record.cdx.json'), 'utf8'))
    const propsOf = (name: string) => doc.components.find((c: any) => c.name === name).properties as { name: string, value: string }[]
    const caps = (name: string) => propsOf(name).find(p => p.name === 'safe-install:scan:capabilities')!.value
    expect(caps('spawner').split(',')).toEqual(expect.arrayContaining(['child_process', 'network']))
    expect(caps('spawner')).toBe([...spawner.capabilities].sort().join(','))
    expect(propsOf('spawner').filter(p => p.name === 'safe-install:scan:finding').map(p => p.value))
      .toEqual(expect.arrayContaining([expect.stringMatching(/^child_process index\.js:2/), expect.stringMatching(/^network index\.js:5/)]))
    expect(caps('plain')).toBe('none')
    expect(propsOf('plain').some(p => p.name === 'safe-install:scan:finding')).toBe(false)

    // --no-scan: not checked, and the record says why
    const off = await s.siJson(['ci', '--no-scan'])
    expect(off.code).toBe(0)
    expect(evidenceOf(off.report, 'spawner').scan).toBeUndefined()
    const doc2 = JSON.parse(fs.readFileSync(path.join(nm, '.safe-install/record.cdx.json'), 'utf8'))
    const sp2 = doc2.components.find((c: any) => c.name === 'spawner').properties
    expect(sp2.find((p: any) => p.name === 'safe-install:scan:capabilities').value).toBe('not-checked')
    expect(sp2.find((p: any) => p.name === 'safe-install:scan:reason').value).toMatch(/scan=false/)
  })
})
