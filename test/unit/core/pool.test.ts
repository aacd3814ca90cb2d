import { describe, expect, it } from 'vitest'

import { mapLimit } from '../../../lib/fetch/pool.js'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/** fn that records how many calls are in flight at once. */
function tracked<T, R> (body: (item: T, i: number) => Promise<R>) {
  const state = { active: 0, peak: 0, started: [] as number[] }
  const fn = async (item: T, i: number) => {
    state.active++
    state.peak = Math.max(state.peak, state.active)
    state.started.push(i)
    try {
      return await body(item, i)
    } finally {
      state.active--
    }
  }
  return { fn, state }
}

describe('mapLimit', () => {
  it('never runs more than `limit` at once, and does reach the limit', async () => {
    const { fn, state } = tracked(async (x: number) => { await sleep(5 + (x % 3) * 3); return x })
    const items = Array.from({ length: 20 }, (_, i) => i)
    await mapLimit(items, 4, fn)
    expect(state.peak).toBe(4)
    expect(state.active).toBe(0)
  })

  it('limit 1 runs strictly one after another, in order', async () => {
    const { fn, state } = tracked(async (x: number) => { await sleep(1); return x })
    await mapLimit([0, 1, 2, 3, 4], 1, fn)
    expect(state.peak).toBe(1)
    expect(state.started).toEqual([0, 1, 2, 3, 4])
  })

  it('a limit of 0 or less still makes progress with one worker', async () => {
    const { fn, state } = tracked(async (x: number) => x * 2)
    expect(await mapLimit([1, 2, 3], 0, fn)).toEqual([2, 4, 6])
    expect(state.peak).toBe(1)
    expect(await mapLimit([1, 2], -5, async x => x)).toEqual([1, 2])
  })

  it('a limit above the item count starts every item at once', async () => {
    const { fn, state } = tracked(async (x: number) => { await sleep(5); return x })
    await mapLimit([1, 2, 3], 100, fn)
    expect(state.peak).toBe(3)
  })

  it('results keep input order whatever the completion order', async () => {
    const delays = [30, 1, 20, 5, 10, 0]
    const out = await mapLimit(delays, 3, async (d, i) => { await sleep(d); return `r${i}:${d}` })
    expect(out).toEqual(delays.map((d, i) => `r${i}:${d}`))
  })

  it('passes each item with its index, each exactly once', async () => {
    const seen: [string, number][] = []
    await mapLimit(['a', 'b', 'c', 'd'], 2, async (x, i) => { seen.push([x, i]) })
    expect(seen.sort()).toEqual([['a', 0], ['b', 1], ['c', 2], ['d', 3]])
  })

  it('an empty list gives an empty result without calling fn', async () => {
    let calls = 0
    expect(await mapLimit([], 4, async () => { calls++ })).toEqual([])
    expect(calls).toBe(0)
  })

  it('a failure rejects with that error and stops starting new items', async () => {
    const boom = new Error('boom')
    const { fn, state } = tracked(async (x: number) => {
      await sleep(2)
      if (x === 2) throw boom
      return x
    })
    await expect(mapLimit(Array.from({ length: 50 }, (_, i) => i), 2, fn)).rejects.toBe(boom)
    // items in flight when it failed may finish; nothing much later starts
    expect(state.started.length).toBeLessThan(6)
    expect(state.active).toBe(0)
  })

  it('of several failures, the first one to happen is the one thrown', async () => {
    const early = new Error('early')
    const late = new Error('late')
    const p = mapLimit([0, 1], 2, async i => {
      if (i === 0) { await sleep(30); throw late }
      await sleep(1)
      throw early
    })
    await expect(p).rejects.toBe(early)
  })

  it('with limit 1, the first failing item by order wins and later items never start', async () => {
    const { fn, state } = tracked(async (x: number) => { if (x >= 1) throw new Error(`e${x}`); return x })
    await expect(mapLimit([0, 1, 2, 3], 1, fn)).rejects.toThrow('e1')
    expect(state.started).toEqual([0, 1])
  })

  it('waits for in-flight work before rejecting (nothing left running)', async () => {
    let finished = 0
    const p = mapLimit([0, 1, 2], 3, async i => {
      if (i === 0) throw new Error('fast')
      await sleep(20)
      finished++
      return i
    })
    await expect(p).rejects.toThrow('fast')
    expect(finished).toBe(2)
  })

  it('a synchronous throw inside an async fn is propagated like a rejection', async () => {
    await expect(mapLimit([1], 1, async () => { throw new TypeError('sync') })).rejects.toBeInstanceOf(TypeError)
  })

  it('non-Error rejection values propagate too', async () => {
    await expect(mapLimit([1, 2], 2, async i => { if (i === 2) throw 'a string'; return i })).rejects.toBe('a string')
    await expect(mapLimit([1, 2], 2, async i => { if (i === 2) throw null; return i })).rejects.toBe(null)
  })

  it('a rejection with undefined is not mistaken for success', async () => {
    // `undefined` doubles as the "no failure yet" sentinel inside mapLimit
    // eslint-disable-next-line no-throw-literal
    const p = mapLimit([1, 2, 3], 2, async i => { if (i === 2) throw undefined; return i })
    let settled: 'resolved' | 'rejected' = 'resolved'
    await p.then(() => { settled = 'resolved' }, () => { settled = 'rejected' })
    expect(settled).toBe('rejected')
  })
})
