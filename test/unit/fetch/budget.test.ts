import zlib from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { ByteBudget, inflatedSize } from '../../../lib/fetch/budget.js'

const tick = () => new Promise(resolve => setImmediate(resolve))

describe('ByteBudget', () => {
  it('requests under the floor are not counted and never wait', async () => {
    const b = new ByteBudget(100, 10)
    const big = await b.acquire(100)
    const small = await Promise.race([b.acquire(9), tick().then(() => 'waited')])
    expect(typeof small).toBe('function')
    expect(b.held).toBe(100)
    big()
    expect(b.held).toBe(0)
  })

  it('large requests share the limit; one that does not fit waits for a release', async () => {
    const b = new ByteBudget(100, 10)
    const a = await b.acquire(60)
    let second: (() => void) | undefined
    void b.acquire(50).then(r => { second = r })
    await tick()
    expect(second).toBeUndefined()
    a()
    await tick()
    expect(second).toBeDefined()
    expect(b.held).toBe(50)
  })

  it('a request larger than the limit runs alone, once nothing else is held', async () => {
    const b = new ByteBudget(100, 10)
    const a = await b.acquire(20)
    let huge: (() => void) | undefined
    void b.acquire(500).then(r => { huge = r })
    await tick()
    expect(huge).toBeUndefined()
    a()
    await tick()
    expect(huge).toBeDefined()
    expect(b.held).toBe(500)
  })

  it('first come, first served: a waiting large request is not passed by later ones', async () => {
    const b = new ByteBudget(100, 10)
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
    const b = new ByteBudget(100, 10)
    const a = await b.acquire(40)
    const c = await b.acquire(40)
    a()
    a()
    expect(b.held).toBe(40)
    c()
    expect(b.held).toBe(0)
  })
})

describe('inflatedSize', () => {
  it('reads the size a gzip trailer declares; other data is its own length', () => {
    const raw = Buffer.alloc(123_456, 7)
    expect(inflatedSize(zlib.gzipSync(raw))).toBe(raw.length)
    expect(inflatedSize(raw)).toBe(raw.length)
  })
})
