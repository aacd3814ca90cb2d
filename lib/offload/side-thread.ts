// One worker thread per run for work that need not hold up the main thread
// (jobs.ts). Started first thing, so its modules load on the other core
// while the main thread reads the config and the plan.
// - every call resolves the same with or without the thread: a thread that
//   cannot start, fails or exits hands its calls (and later ones) to the
//   main thread;
// - an idle thread does not keep the process alive; close() ends it.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Worker } from 'node:worker_threads'
import type { JobKind, Jobs, JobTypes } from './jobs.js'
import { startWorker } from './start-worker.js'

/** the side thread's young generation (V8's default grows to 32 MB, two 16 MB semi-spaces) */
const YOUNG_GENERATION_MB = 4

export interface SideRequest { readonly id: number, readonly kind: JobKind, readonly payload: unknown }
export type SideReply = { readonly id: number, readonly result: unknown, readonly error?: undefined } |
  { readonly id: number, readonly error: { message: string, code?: string, stack?: string }, readonly result?: undefined }

interface Pending {
  readonly kind: JobKind
  readonly payload: unknown
  readonly resolve: (v: any) => void
  readonly reject: (e: Error) => void
}

/** The compiled worker beside this module; undefined when running from sources (e.g. under vitest). */
function defaultWorkerUrl (): URL | undefined {
  const url = new URL('./side-worker.js', import.meta.url)
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : undefined
}

export class SideThread {
  #worker?: Worker
  #inline?: Promise<Jobs>
  #nextId = 1
  readonly #pending = new Map<number, Pending>()
  /** why calls run on the main thread (undefined while the thread serves them) */
  inlineReason?: string

  constructor (opts: { workerUrl?: URL | null } = {}) {
    const url = opts.workerUrl === undefined ? defaultWorkerUrl() : opts.workerUrl ?? undefined
    if (!url) {
      this.inlineReason = 'no compiled worker'
      return
    }
    try {
      // a small young generation: what the jobs allocate dies young, and each
      // new page of a larger one is a page fault (18 us each on this VM)
      this.#worker = startWorker(url, { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } })
    } catch (err) {
      this.inlineReason = `the side thread could not start (${err instanceof Error ? err.message : String(err)})`
      return
    }
    const worker = this.#worker
    worker.unref()
    worker.on('message', (reply: SideReply) => {
      const p = this.#pending.get(reply.id)
      if (!p) return
      this.#pending.delete(reply.id)
      if (!this.#pending.size) worker.unref()
      if (reply.error) p.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code, stack: reply.error.stack }))
      else p.resolve(reply.result)
    })
    const lost = (why: string) => {
      if (this.#worker !== worker) return
      this.#worker = undefined
      this.inlineReason = why
      const calls = [...this.#pending.values()]
      this.#pending.clear()
      for (const p of calls) this.#runInline(p)
    }
    worker.on('error', err => lost(`the side thread failed (${err.message})`))
    worker.on('exit', code => lost(`the side thread exited (code ${code})`))
  }

  call<K extends JobKind> (kind: K, payload: JobTypes[K]['payload']): Promise<JobTypes[K]['result']> {
    return new Promise((resolve, reject) => {
      const p: Pending = { kind, payload, resolve, reject }
      const worker = this.#worker
      if (!worker) return this.#runInline(p)
      const id = this.#nextId++
      this.#pending.set(id, p)
      worker.ref()
      try {
        worker.postMessage({ id, kind, payload } satisfies SideRequest)
      } catch (err) {
        // not cloneable: a bug in the caller, but the job still runs
        this.#pending.delete(id)
        if (!this.#pending.size) worker.unref()
        this.#runInline(p)
      }
    })
  }

  /**
   * Ends the thread; calls still pending are rejected (nobody waits for them
   * any more). The thread stops on its own time: an unreferenced thread does
   * not hold up the process's exit.
   */
  close (): void {
    const worker = this.#worker
    if (!worker) return
    this.#worker = undefined
    this.inlineReason = 'closed'
    const calls = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of calls) p.reject(new Error('the side thread was closed'))
    worker.unref()
    void worker.terminate().catch(() => {})
  }

  #runInline (p: Pending): void {
    this.#inline ??= import('./jobs.js').then(m => m.createJobs())
    this.#inline.then(jobs => (jobs[p.kind] as (x: unknown) => Promise<unknown>)(p.payload)).then(p.resolve, p.reject)
  }
}
