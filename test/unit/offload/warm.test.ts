// The side thread's warm-up starts asking TUF for the targets the run will
// ask for, with the run's TUF options: the checks' later tuf:target calls
// get that same client and answer.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'

const asked = vi.hoisted(() => [] as Array<{ cachePath: string, name: string }>)
const created = vi.hoisted(() => [] as string[])
vi.mock('../../../lib/evidence/tuf.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../lib/evidence/tuf.js')>()
  return {
    ...actual,
    createSigstoreTargets: (opts: Parameters<typeof actual.createSigstoreTargets>[0]) => {
      created.push(opts.cachePath)
      const targets = actual.createSigstoreTargets(opts)
      return { target: (name: string) => { asked.push({ cachePath: opts.cachePath, name }); return targets.target(name) } }
    },
  }
})

const { createJobs } = await import('../../../lib/offload/jobs.js')
const { tufOptions } = await import('../../../lib/evidence/tuf.js')

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-warm-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('warm', () => {
  it('asks for the targets it is given; tuf:target with the same options then shares the client and the answer', async () => {
    const jobs = createJobs()
    const opts = tufOptions({ cache: tmp, offline: true })
    await jobs.warm({ kinds: ['tuf'], tuf: { opts, names: ['trusted_root.json'] } })
    await vi.waitFor(() => expect(asked).toEqual([{ cachePath: opts.cachePath, name: 'trusted_root.json' }]))
    // the options as they arrive from the main thread: another object, the same values
    const a = await jobs['tuf:target']({ opts: structuredClone(opts), name: 'trusted_root.json' })
    const b = await jobs['tuf:target']({ opts: structuredClone(opts), name: 'trusted_root.json' })
    expect(a?.source).toBe('embedded')
    expect(b).toBe(a)
    // one client for the run: warm's
    expect(created).toEqual([opts.cachePath])
    expect(asked.map(x => x.cachePath)).toEqual([opts.cachePath, opts.cachePath, opts.cachePath])
  })

  it('without targets, asks for none', async () => {
    asked.length = 0
    await createJobs().warm({ kinds: ['tuf'] })
    expect(asked).toEqual([])
  })
})
