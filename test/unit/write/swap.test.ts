// The staged swap: journal, old trees aside, staged trees in place, commit,
// clean-up; rollback before the commit point; recovery after a crash at any
// step.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JOURNAL, PREVIOUS, recoverSwap, STAGING, StagedSwap } from '../../../lib/write/swap.js'

let prefix: string
let ws: string
beforeEach(() => {
  prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'si-swap-'))
  ws = path.join(prefix, 'packages', 'ws')
  fs.mkdirSync(ws, { recursive: true })
})
afterEach(() => { fs.rmSync(prefix, { recursive: true, force: true }) })

function tree (dir: string, name: string, marker: string): void {
  fs.mkdirSync(path.join(dir, name, 'pkg'), { recursive: true })
  fs.writeFileSync(path.join(dir, name, 'pkg', 'marker'), marker)
}
const marker = (dir: string) => fs.readFileSync(path.join(dir, 'node_modules', 'pkg', 'marker'), 'utf8')
const leftovers = (dir: string) => fs.readdirSync(dir).filter(n => n.startsWith('.safe-install'))

/** a pid that is certainly not running */
function deadPid (): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
  return Number(r.stdout.toString())
}

describe('staged swap', () => {
  it('puts the staged trees in place and removes the old ones', async () => {
    tree(prefix, 'node_modules', 'old-root')
    tree(prefix, STAGING, 'new-root')
    tree(ws, STAGING, 'new-ws')
    const swap = new StagedSwap(prefix, [prefix, ws])
    await swap.begin()
    expect(JSON.parse(fs.readFileSync(path.join(prefix, JOURNAL), 'utf8'))).toEqual({ dirs: [prefix, ws], had: [prefix] })
    await swap.moveAside()
    await swap.putInPlace([prefix, ws])
    await swap.commit()
    expect(fs.existsSync(path.join(prefix, JOURNAL))).toBe(false)
    expect(marker(prefix)).toBe('new-root')
    expect(marker(ws)).toBe('new-ws')
    await swap.cleanup()
    expect(leftovers(prefix)).toEqual([])
    expect(leftovers(ws)).toEqual([])
  })

  it('rolls back before the commit point: old trees back, staged and new ones gone', async () => {
    tree(prefix, 'node_modules', 'old-root')
    tree(prefix, STAGING, 'new-root')
    tree(ws, STAGING, 'new-ws')
    const swap = new StagedSwap(prefix, [prefix, ws])
    await swap.begin()
    await swap.moveAside()
    await swap.putInPlace([prefix, ws])
    await swap.rollback()
    expect(marker(prefix)).toBe('old-root')
    expect(fs.existsSync(path.join(ws, 'node_modules'))).toBe(false)
    expect(leftovers(prefix)).toEqual([])
    expect(leftovers(ws)).toEqual([])
  })

  it('a rollback before begin() never touches node_modules', async () => {
    tree(prefix, 'node_modules', 'old-root')
    tree(prefix, STAGING, 'new-root')
    await new StagedSwap(prefix, [prefix]).rollback()
    expect(marker(prefix)).toBe('old-root')
    expect(leftovers(prefix)).toEqual([])
  })

  it('recovers a crash after the old trees were moved aside: restores them', async () => {
    tree(prefix, 'node_modules', 'old-root')
    tree(ws, 'node_modules', 'old-ws')
    tree(prefix, STAGING, 'new-root')
    const swap = new StagedSwap(prefix, [prefix, ws])
    await swap.begin()
    await swap.moveAside()
    await swap.putInPlace([prefix]) // crash here: the root is new, the workspace has none
    const done = await recoverSwap(prefix)
    expect(done).toHaveLength(2)
    expect(marker(prefix)).toBe('old-root')
    expect(marker(ws)).toBe('old-ws')
    expect(leftovers(prefix)).toEqual([])
    expect(leftovers(ws)).toEqual([])
  })

  it('recovers a crash of a first install: the unfinished tree is removed', async () => {
    tree(prefix, STAGING, 'new-root')
    const swap = new StagedSwap(prefix, [prefix])
    await swap.begin()
    await swap.moveAside()
    await swap.putInPlace([prefix])
    expect(await recoverSwap(prefix)).toEqual([`removed the unfinished ${path.join(prefix, 'node_modules')} of an interrupted install`])
    expect(fs.existsSync(path.join(prefix, 'node_modules'))).toBe(false)
  })

  it('keeps the journal semantics of older versions ({dirs} only)', async () => {
    tree(prefix, PREVIOUS, 'old-root')
    tree(prefix, 'node_modules', 'partial')
    fs.writeFileSync(path.join(prefix, JOURNAL), JSON.stringify({ dirs: [prefix] }))
    await recoverSwap(prefix)
    expect(marker(prefix)).toBe('old-root')
    // no journal: a previous tree left over belongs to a committed install
    tree(prefix, PREVIOUS, 'stale')
    await recoverSwap(prefix)
    expect(marker(prefix)).toBe('old-root')
    expect(leftovers(prefix)).toEqual([])
  })

  it('finishes the clean-up of a committed install whose process died', async () => {
    tree(prefix, 'node_modules', 'old-root')
    tree(ws, 'node_modules', 'old-ws')
    tree(prefix, STAGING, 'new-root')
    tree(ws, STAGING, 'new-ws')
    const swap = new StagedSwap(prefix, [prefix, ws])
    await swap.begin()
    await swap.moveAside()
    await swap.putInPlace([prefix, ws])
    await swap.commit()
    // the process dies before cleanup(): pretend its pid is a dead one
    const pid = deadPid()
    for (const name of leftovers(prefix)) fs.renameSync(path.join(prefix, name), path.join(prefix, name.replace(String(process.pid), String(pid))))
    expect(leftovers(prefix).length).toBe(3) // cleanup file + 2 trash folders
    await recoverSwap(prefix)
    expect(leftovers(prefix)).toEqual([])
    expect(marker(prefix)).toBe('new-root')
    expect(marker(ws)).toBe('new-ws')
  })

  it('leaves the clean-up of a live process alone', async () => {
    tree(prefix, 'node_modules', 'old-root')
    tree(prefix, STAGING, 'new-root')
    const swap = new StagedSwap(prefix, [prefix])
    await swap.begin()
    await swap.moveAside()
    await swap.putInPlace([prefix])
    await swap.commit()
    await recoverSwap(prefix) // our own pid: still running
    expect(leftovers(prefix).length).toBe(2)
    await swap.cleanup()
    expect(leftovers(prefix)).toEqual([])
  })
})
