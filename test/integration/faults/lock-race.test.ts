// Taking over a stale project lock must itself be exclusive: when several
// installs find the lock of a dead process at the same moment, exactly one
// of them may end up holding it. Driven in-process through lib/write/lock.ts,
// where the race is reproducible (separate processes hit the same window,
// only more rarely).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { acquireLock } from '../../../lib/write/lock.js'
import { deadPid } from './helpers.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('stale lock takeover', () => {
  it('lets only one of several simultaneous contenders hold the lock', async () => {
    const stalePid = await deadPid()
    let worst = 0
    let attempts = 0
    // the window is a few microseconds wide: try a number of times, stop at the first overlap
    for (; attempts < 40 && worst <= 1; attempts++) {
      const prefix = mkdtempSync(join(tmpdir(), 'si-lockrace-'))
      dirs.push(prefix)
      mkdirSync(join(prefix, '.safe-install.lock'))
      writeFileSync(join(prefix, '.safe-install.lock', 'pid'), String(stalePid))
      let holders = 0
      const contender = async (): Promise<void> => {
        let lock
        try {
          lock = await acquireLock(prefix, { waitMs: 50 })
        } catch (err) {
          if ((err as any).code === 'ESIBUSY') return // gave up waiting: fine, it never held the lock
          throw err
        }
        holders++
        worst = Math.max(worst, holders)
        await new Promise(resolve => setTimeout(resolve, 15))
        holders--
        await lock.release()
      }
      await Promise.all(Array.from({ length: 20 }, contender))
    }
    expect(worst, `${worst} contenders held the lock at once (attempt ${attempts})`).toBe(1)
  })
})
