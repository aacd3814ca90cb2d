import { describe, expect, it } from 'vitest'

import { ERROR_CODES } from '../../../lib/errors.js'
import { checkBins, checkTarballStructure } from '../../../lib/policy/tarball-structure.js'
import type { TarEntry } from '../../../lib/types.js'

const PKG = 'evil@1.0.0'
const LOC = 'node_modules/evil'

const file = (path: string): TarEntry => ({ path, type: 'file', size: 1, mode: 0o644 })
const dir = (path: string): TarEntry => ({ path, type: 'directory', size: 0, mode: 0o755 })
const symlink = (path: string, linkpath: string): TarEntry => ({ path, type: 'symlink', size: 0, mode: 0o777, linkpath })
const hardlink = (path: string, linkpath: string): TarEntry => ({ path, type: 'link', size: 0, mode: 0o644, linkpath })

const check = (...files: TarEntry[]) => checkTarballStructure(PKG, LOC, files)
const codes = (vs: { code: string }[]) => vs.map(v => v.code)

describe('checkTarballStructure: paths', () => {
  it('an ordinary package passes', () => {
    expect(check(file('package.json'), dir('lib'), file('lib/index.js'), file('README.md'), file('.npmignore'), file('a..b/c...js'))).toEqual([])
  })

  it('an empty list passes', () => {
    expect(check()).toEqual([])
  })

  it('"../" paths are refused with ESITARPATH', () => {
    const out = check(file('../evil.js'))
    expect(codes(out)).toEqual(['ESITARPATH'])
    expect(out[0]).toMatchObject({ package: PKG, path: LOC })
    expect(out[0].message).toContain('"../evil.js"')
  })

  it('a bare ".." is refused', () => {
    expect(codes(check(dir('..')))).toEqual(['ESITARPATH'])
  })

  it('absolute paths are refused', () => {
    expect(codes(check(file('/etc/passwd')))).toEqual(['ESITARPATH'])
  })

  it('Windows drive and backslash paths are refused', () => {
    expect(codes(check(file('C:/Windows/evil.dll')))).toEqual(['ESITARPATH'])
    expect(codes(check(file('c:evil')))).toEqual(['ESITARPATH'])
    expect(codes(check(file('..\\evil.js')))).toEqual(['ESITARPATH'])
    expect(codes(check(file('lib\\x.js')))).toEqual(['ESITARPATH'])
  })

  it('nested escapes like a/../../x are refused', () => {
    expect(codes(check(file('a/../../x')))).toEqual(['ESITARPATH'])
    expect(codes(check(file('a/b/../../../x')))).toEqual(['ESITARPATH'])
  })

  it('any ".." segment is refused, even one that stays inside', () => {
    // node-tar refuses these at extraction; refusing them here keeps the list honest
    expect(codes(check(file('a/../b.js')))).toEqual(['ESITARPATH'])
  })

  it('one violation per bad entry, in order; good entries in between are silent', () => {
    const out = check(file('../a'), file('ok.js'), file('/b'))
    expect(out.map(v => v.message.match(/"([^"]+)"/)?.[1])).toEqual(['../a', '/b'])
  })

  it('an entry with a bad path is not also judged as a link', () => {
    expect(codes(check(symlink('../x', '../../y')))).toEqual(['ESITARPATH'])
  })
})

describe('checkTarballStructure: links', () => {
  it('a symlink to ../../outside from lib/ escapes: ESITARLINK', () => {
    const out = check(symlink('lib/link', '../../outside'))
    expect(codes(out)).toEqual(['ESITARLINK'])
    expect(out[0].message).toContain('symbolic link "lib/link" -> "../../outside"')
  })

  it('a top-level symlink to ../sibling escapes', () => {
    expect(codes(check(symlink('link', '../sibling/index.js')))).toEqual(['ESITARLINK'])
  })

  it('a symlink resolved from its own folder that stays inside is fine', () => {
    expect(check(symlink('lib/link', '../index.js'), symlink('a/b/c', '../../d'), symlink('x', 'lib/y.js'), symlink('dot', '.'))).toEqual([])
  })

  it('an absolute symlink target is refused', () => {
    expect(codes(check(symlink('lib/passwd', '/etc/passwd')))).toEqual(['ESITARLINK'])
  })

  it('a backslash or drive in a symlink target is refused', () => {
    expect(codes(check(symlink('x', '..\\..\\outside')))).toEqual(['ESITARLINK'])
    expect(codes(check(symlink('x', 'C:/outside')))).toEqual(['ESITARLINK'])
  })

  it('a hard link pointing outward is refused as a hard link', () => {
    const out = check(hardlink('lib/x', '../outside'))
    expect(codes(out)).toEqual(['ESITARLINK'])
    expect(out[0].message).toContain('hard link')
  })

  it('a hard link is resolved from the package root, not its own folder', () => {
    // lib/x -> ../y would stay inside for a symlink, but not for a hard link
    expect(codes(check(hardlink('lib/x', '../y')))).toEqual(['ESITARLINK'])
    expect(check(hardlink('lib/x', 'lib/y.js'))).toEqual([])
  })

  it('a hard link to an absolute path is refused', () => {
    expect(codes(check(hardlink('x', '/etc/shadow')))).toEqual(['ESITARLINK'])
  })

  it('codes are known error codes', () => {
    for (const v of check(file('../a'), symlink('b', '/c'))) expect(ERROR_CODES).toHaveProperty(v.code)
  })
})

describe('checkBins', () => {
  const bins = (manifest: Record<string, any>) => checkBins(PKG, LOC, manifest)

  it('no bin, an ordinary bin map and a string bin pass', () => {
    expect(bins({ name: 'evil' })).toEqual([])
    expect(bins({ name: 'evil', bin: { evil: 'bin/cli.js', 'evil-2': './bin/two.js' } })).toEqual([])
    expect(bins({ name: 'evil', bin: 'bin/cli.js' })).toEqual([])
  })

  it('a bin name with ../ is refused with ESIBINPATH', () => {
    const out = bins({ name: 'evil', bin: { '../../.bashrc': 'x.js' } })
    expect(codes(out)).toEqual(['ESIBINPATH'])
    expect(out[0].message).toContain('bin named "../../.bashrc"')
    expect(out[0]).toMatchObject({ package: PKG, path: LOC })
  })

  it('a bin name with / or \\ or . or .. or a NUL is refused', () => {
    for (const name of ['a/b', 'a\\b', '.', '..', 'a\0b']) {
      expect(codes(bins({ name: 'evil', bin: { [name]: 'x.js' } })), JSON.stringify(name)).toEqual(['ESIBINPATH'])
    }
  })

  it('an empty bin name is refused', () => {
    expect(codes(bins({ name: 'evil', bin: { '': 'x.js' } }))).toEqual(['ESIBINPATH'])
  })

  it('a bin target escaping the package is refused and the message names the target', () => {
    const out = bins({ name: 'evil', bin: { evil: '../other/cli.js' } })
    expect(codes(out)).toEqual(['ESIBINPATH'])
    expect(out[0].message).toContain('bin "evil" -> "../other/cli.js"')
    for (const target of ['/usr/bin/env', 'bin/../../x', 'C:/x', 'bin\\cli.js', 'a\0b']) {
      expect(codes(bins({ name: 'evil', bin: { evil: target } })), target).toEqual(['ESIBINPATH'])
    }
  })

  it('a non-string bin target is refused', () => {
    expect(codes(bins({ name: 'evil', bin: { evil: 42 } }))).toEqual(['ESIBINPATH'])
    expect(codes(bins({ name: 'evil', bin: { evil: null } }))).toEqual(['ESIBINPATH'])
  })

  it('a string bin uses the package base name, so a scoped name is fine', () => {
    expect(bins({ name: '@scope/tool', bin: 'cli.js' })).toEqual([])
  })

  it('a string bin escaping the package is refused under the base name', () => {
    const out = bins({ name: '@scope/tool', bin: '../../x.js' })
    expect(codes(out)).toEqual(['ESIBINPATH'])
    expect(out[0].message).toContain('bin "tool"')
  })

  it('a string bin with no package name has no usable bin name and is refused', () => {
    expect(codes(bins({ bin: 'cli.js' }))).toEqual(['ESIBINPATH'])
  })

  it('several bad bins give one violation each', () => {
    expect(bins({ name: 'evil', bin: { ok: 'a.js', '../x': 'b.js', y: '/c' } })).toHaveLength(2)
  })

  it('directories.bin escaping the package is refused', () => {
    for (const binDir of ['../..', '/usr/bin', 'bin/../../x']) {
      const out = bins({ name: 'evil', directories: { bin: binDir } })
      expect(codes(out), binDir).toEqual(['ESIBINPATH'])
      expect(out[0].message).toContain(`directories.bin "${binDir}"`)
    }
  })

  it('directories.bin inside the package is fine', () => {
    expect(bins({ name: 'evil', directories: { bin: './bin' } })).toEqual([])
    expect(bins({ name: 'evil', directories: { bin: 'scripts/bin' } })).toEqual([])
  })

  it('bin values of other shapes are ignored (npm normalises them away)', () => {
    expect(bins({ name: 'evil', bin: 42 })).toEqual([])
    expect(bins({ name: 'evil', bin: null })).toEqual([])
  })
})
