import { describe, expect, it } from 'vitest'
import { Budget } from '../../../lib/fetch/budget.js'
import { turn as tick } from '../../../lib/fetch/pool.js'

/** Asks for `n` while `hold` is held: it waits, is granted once `hold` is released, and then `held` is held in all. */
async function waitsFor (b: Budget, hold: () => void, n: number, held: number): Promise<void> {
  const probe: { release?: () => void } = {}
  void b.acquire(n).then(r => { probe.release = r })
  await tick()
  expect(probe.release).toBeUndefined()
  hold()
  await tick()
  expect(probe.release).toBeDefined()
  expect(b.held).toBe(held)
}

describe('Budget', () => {
  it('requests under the floor are not counted and never wait', async () => {
    const b = new Budget(100, 10)
    const big = await b.acquire(100)
    const small = await Promise.race([b.acquire(9), tick().then(() => 'waited')])
    expect(typeof small).toBe('function')
    expect(b.held).toBe(100)
    big()
    expect(b.held).toBe(0)
  })

  it('large requests share the limit; one that does not fit waits for a release', async () => {
    const b = new Budget(100, 10)
    await waitsFor(b, await b.acquire(60), 50, 50)
  })

  it('a request larger than the limit runs alone, once nothing else is held', async () => {
    const b = new Budget(100, 10)
    await waitsFor(b, await b.acquire(20), 500, 500)
  })

  it('first come, first served: a waiting large request is not passed by later ones', async () => {
    const b = new Budget(100, 10)
    const a = await b.acquire(60)
    const order: string[] = []
    void b.acquire(80).then(r => { order.push('80'); r() })
    void b.acquire(20).then(r => { order.push('20'); r() })
    await tick()
    expect(order).toEqual([]) // 20 would fit, but 80 asked first
    a()
    await tick()
    expect(order).toEqual(['80', '20'])
    expect(b.held).toBe(0)
  })

  it('a release called twice counts once', async () => {
    const b = new Budget(100, 10)
    const a = await b.acquire(40)
    const c = await b.acquire(40)
    a()
    a()
    expect(b.held).toBe(40)
    c()
    expect(b.held).toBe(0)
  })

  it('as a count (the side thread\'s extractions): at most `limit` at once, the next on each release', async () => {
    const b = new Budget(2)
    const first = await b.acquire(1)
    await b.acquire(1)
    await waitsFor(b, first, 1, 2)
  })
})
