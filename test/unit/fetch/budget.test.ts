import { describe, expect, it } from 'vitest'
import { Budget } from '../../../lib/fetch/budget.js'

const tick = () => new Promise(resolve => setImmediate(resolve))

/** An acquire in flight: `release` is set once it is granted. */
function asking (b: Budget, n: number): { release?: () => void } {
  const probe: { release?: () => void } = {}
  void b.acquire(n).then(r => { probe.release = r })
  return probe
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
    const a = await b.acquire(60)
    const second = asking(b, 50)
    await tick()
    expect(second.release).toBeUndefined()
    a()
    await tick()
    expect(second.release).toBeDefined()
    expect(b.held).toBe(50)
  })

  it('a request larger than the limit runs alone, once nothing else is held', async () => {
    const b = new Budget(100, 10)
    const a = await b.acquire(20)
    const huge = asking(b, 500)
    await tick()
    expect(huge.release).toBeUndefined()
    a()
    await tick()
    expect(huge.release).toBeDefined()
    expect(b.held).toBe(500)
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
    const third = asking(b, 1)
    await tick()
    expect(third.release).toBeUndefined()
    first()
    await tick()
    expect(third.release).toBeDefined()
    expect(b.held).toBe(2)
  })
})
