import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { linkClaimedYielding, type SharedJob } from '../../../lib/write/shared-links.js'

let tmp: string
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-links-')) })
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** n jobs of `files` files each: a source folder with the files, an empty staged folder. */
function jobs (n: number, files: number): SharedJob[] {
  const out: SharedJob[] = []
  for (let j = 0; j < n; j++) {
    const src = path.join(tmp, `src${j}`)
    const dst = path.join(tmp, `dst${j}`)
    fs.mkdirSync(src)
    fs.mkdirSync(dst)
    const paths = Array.from({ length: files }, (_, i) => `f${i}.js`)
    for (const p of paths) fs.writeFileSync(path.join(src, p), `${j}/${p}`, { mode: 0o444 })
    out.push([src, dst, paths, paths.map(() => 0o644)])
  }
  return out
}

describe('linkClaimedYielding', () => {
  it('hard-links every file of the jobs it claims, sharing the counter with another taker', async () => {
    const all = jobs(6, 5)
    const claim = new Int32Array(new SharedArrayBuffer(4))
    // another thread took position 0 already
    expect(Atomics.add(claim, 0, 1)).toBe(0)
    const linked = await linkClaimedYielding(all, claim, 3)
    expect(linked.done).toEqual([1, 2, 3, 4, 5])
    expect(linked.counts).toEqual({ clone: 0, hardlink: 25, copy: 0 })
    expect(linked.failed).toBeUndefined()
    for (const p of linked.done) {
      const [src, dst, paths] = all[p]
      for (const rel of paths) expect(fs.statSync(path.join(dst, rel)).ino).toBe(fs.statSync(path.join(src, rel)).ino)
    }
    expect(fs.readdirSync(all[0][1])).toEqual([])
    // nothing left to claim
    expect((await linkClaimedYielding(all, claim)).done).toEqual([])
  })

  it('reports the error that stops it, with the jobs done before it, instead of throwing', async () => {
    const all = jobs(3, 2)
    fs.rmSync(path.join(all[1][0], 'f1.js'))
    const linked = await linkClaimedYielding(all, new Int32Array(new SharedArrayBuffer(4)))
    expect(linked.done).toEqual([0])
    expect(linked.failed).toMatchObject({ code: 'ENOENT' })
  })
})
