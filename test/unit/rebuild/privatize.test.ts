import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { privatizeFiles } from '../../../lib/rebuild/privatize.js'

let dir: string
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }) })

describe('privatizeFiles', () => {
  it('turns hard links into writable copies with the same bytes and exec bits, leaving the other link alone', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'si-priv-'))
    const store = path.join(dir, 'store')
    const pkg = path.join(dir, 'pkg')
    fs.mkdirSync(path.join(store, 'bin'), { recursive: true })
    fs.mkdirSync(path.join(pkg, 'bin'), { recursive: true })
    fs.writeFileSync(path.join(store, 'index.js'), 'one\n', { mode: 0o444 })
    fs.writeFileSync(path.join(store, 'bin', 'cli.js'), 'two\n', { mode: 0o555 })
    fs.linkSync(path.join(store, 'index.js'), path.join(pkg, 'index.js'))
    fs.linkSync(path.join(store, 'bin', 'cli.js'), path.join(pkg, 'bin', 'cli.js'))
    fs.writeFileSync(path.join(pkg, 'own.txt'), 'mine\n')
    fs.symlinkSync('index.js', path.join(pkg, 'alias.js'))

    expect(privatizeFiles(pkg)).toBe(2)
    for (const [rel, text] of [['index.js', 'one\n'], ['bin/cli.js', 'two\n']]) {
      const st = fs.statSync(path.join(pkg, rel))
      expect(st.nlink).toBe(1)
      expect(st.mode & 0o200).toBe(0o200)
      expect(fs.readFileSync(path.join(pkg, rel), 'utf8')).toBe(text)
    }
    expect(fs.statSync(path.join(pkg, 'bin', 'cli.js')).mode & 0o111).toBe(0o111)
    fs.appendFileSync(path.join(pkg, 'index.js'), 'changed\n')
    expect(fs.readFileSync(path.join(store, 'index.js'), 'utf8')).toBe('one\n')
    expect(fs.statSync(path.join(store, 'index.js')).mode & 0o777).toBe(0o444)
    expect(fs.lstatSync(path.join(pkg, 'alias.js')).isSymbolicLink()).toBe(true)
    expect(privatizeFiles(pkg)).toBe(0)
  })
})
