// Provenance verification off the main thread. Verifying a package's
// attestations is a few milliseconds of pure CPU (certificate chain, SCT,
// transparency log and DSSE signatures); on the main thread it competes with
// fetching, integrity and the scan. The pool runs verifyAttestations in
// worker threads:
// - lazily: no thread starts until a bundle actually needs verifying (a warm
//   run answers from the facts cache and never starts one);
// - while no worker has finished starting (loading @sigstore takes a few
//   hundred milliseconds), jobs are verified on the main thread, so a small
//   install waits for no thread;
// - sized from the available cores, leaving one to the main thread;
// - each worker gets the trusted root once, then per job the attestations,
//   the registry keys and the lockfile integrity;
// - idle workers do not keep the process alive, and close() ends them;
// - if a worker cannot start or dies, its jobs (and later ones) are verified
//   on the main thread: the outcome never depends on the pool.
import { existsSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import type { Worker } from 'node:worker_threads'
import { startWorker } from '../offload/start-worker.js'
import { TrustedRoot } from '@sigstore/protobuf-specs'
import type { ProvenanceOutcome } from '../types.js'
import { verifyAttestations, type VerifyAttestationsInput } from './provenance.js'

/** What a worker receives: the root (first job on that worker only) and the job. */
export interface PoolRequest {
  readonly id: number
  readonly rootId: number
  readonly root?: unknown
  readonly input: Omit<VerifyAttestationsInput, 'trustedRoot'>
}

export type PoolReply = { readonly id: number, readonly outcome: ProvenanceOutcome, readonly error?: undefined } |
  { readonly id: number, readonly error: string, readonly outcome?: undefined } |
  { readonly ready: true, readonly id?: undefined }

interface Job {
  readonly id: number
  readonly input: VerifyAttestationsInput
  readonly resolve: (outcome: ProvenanceOutcome) => void
  readonly reject: (err: Error) => void
}

interface Slot {
  readonly worker: Worker
  readonly roots: Set<number>
  /** the worker has loaded its modules and takes jobs */
  ready: boolean
  job?: Job
}

/** Workers to start: the available cores less one for the main thread, at least one, at most four. */
export function defaultPoolSize (): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1))
}

/** The compiled worker beside this module; undefined when running from sources (e.g. under vitest). */
function defaultWorkerUrl (): URL | undefined {
  const url = new URL('./provenance-worker.js', import.meta.url)
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : undefined
}

export interface ProvenancePoolOptions {
  /** number of worker threads (default: defaultPoolSize()) */
  readonly size?: number
  /** the worker script (default: provenance-worker.js beside this module) */
  readonly workerUrl?: URL
}

export class ProvenancePool {
  readonly size: number
  readonly #workerUrl?: URL
  readonly #slots: Slot[] = []
  readonly #queue: Job[] = []
  readonly #rootIds = new WeakMap<TrustedRoot, number>()
  readonly #rootJson = new Map<number, unknown>()
  #nextId = 0
  #broken?: string
  #readyWaiters: Array<() => void> = []
  /** jobs verified on a worker, and on the main thread */
  readonly stats = { offloaded: 0, inline: 0 }

  constructor (opts: ProvenancePoolOptions = {}) {
    this.size = Math.max(1, opts.size ?? defaultPoolSize())
    this.#workerUrl = opts.workerUrl ?? defaultWorkerUrl()
    if (!this.#workerUrl) this.#broken = 'no compiled worker script'
  }

  /** worker threads running now */
  get started (): number {
    return this.#slots.length
  }

  /** why jobs run on the main thread, if they do */
  get inline (): string | undefined {
    return this.#broken
  }

  /** verifyAttestations(input), on a worker thread when one can run it */
  verify (input: VerifyAttestationsInput): Promise<ProvenanceOutcome> {
    return new Promise((resolve, reject) => {
      const job = { id: this.#nextId++, input, resolve, reject }
      if (this.#broken) return this.#runInline(job)
      this.#queue.push(job)
      this.#pump()
    })
  }

  /** starts every worker now; resolves once each is ready (or the pool runs inline) */
  async start (): Promise<void> {
    if (this.#broken) return
    while (this.#slots.length < this.size && this.#start()) {}
    await new Promise<void>(resolve => this.#whenAllReady(resolve))
  }

  #whenAllReady (resolve: () => void): void {
    if (this.#broken || this.#slots.every(s => s.ready)) resolve()
    else this.#readyWaiters.push(() => this.#whenAllReady(resolve))
  }

  #notifyReady (): void {
    for (const waiter of this.#readyWaiters.splice(0)) waiter()
  }

  /** ends every worker; later jobs start them again */
  async close (): Promise<void> {
    const slots = this.#slots.splice(0)
    this.#notifyReady()
    await Promise.all(slots.map(s => s.worker.terminate().catch(() => 0)))
    // jobs a closed worker held are verified here
    for (const s of slots) if (s.job) this.#runInline(s.job)
  }

  #pump (): void {
    while (this.#queue.length) {
      const slot = this.#slots.find(s => s.ready && !s.job)
      if (slot) {
        this.#send(slot, this.#queue.shift()!)
        continue
      }
      if (this.#slots.length < this.size) this.#start()
      if (this.#broken) return
      // no worker has started yet: do not wait for one
      if (!this.#slots.some(s => s.ready)) this.#runInline(this.#queue.shift()!)
      else return
    }
  }

  #start (): Slot | undefined {
    let worker: Worker
    try {
      worker = startWorker(this.#workerUrl!)
    } catch (err) {
      this.#fail(`the worker could not start (${err instanceof Error ? err.message : String(err)})`)
      return undefined
    }
    const slot: Slot = { worker, roots: new Set(), ready: false }
    worker.unref()
    worker.on('message', (reply: PoolReply) => {
      if (reply.id === undefined) {
        slot.ready = true
        this.#notifyReady()
        this.#pump()
        return
      }
      const job = slot.job
      if (!job || job.id !== reply.id) return
      slot.job = undefined
      worker.unref()
      this.stats.offloaded++
      if (reply.error !== undefined) job.reject(new Error(reply.error))
      else job.resolve(reply.outcome!)
      this.#pump()
    })
    const lost = (why: string) => {
      const i = this.#slots.indexOf(slot)
      if (i < 0) return
      this.#slots.splice(i, 1)
      const job = slot.job
      slot.job = undefined
      this.#fail(why)
      if (job) this.#runInline(job)
    }
    worker.on('error', err => lost(`a worker failed (${err.message})`))
    worker.on('exit', code => lost(`a worker exited (code ${code})`))
    this.#slots.push(slot)
    return slot
  }

  #send (slot: Slot, job: Job): void {
    const { trustedRoot, ...rest } = job.input
    let rootId = this.#rootIds.get(trustedRoot)
    if (rootId === undefined) {
      this.#rootIds.set(trustedRoot, rootId = this.#nextId++)
      this.#rootJson.set(rootId, TrustedRoot.toJSON(trustedRoot))
    }
    const request: PoolRequest = {
      id: job.id,
      rootId,
      root: slot.roots.has(rootId) ? undefined : this.#rootJson.get(rootId),
      input: rest,
    }
    slot.job = job
    slot.worker.ref()
    try {
      slot.worker.postMessage(request)
      slot.roots.add(rootId)
    } catch {
      slot.job = undefined
      slot.worker.unref()
      this.#runInline(job)
    }
  }

  /** from now on, every job runs on the main thread */
  #fail (why: string): void {
    this.#broken ??= why
    for (const job of this.#queue.splice(0)) this.#runInline(job)
    this.#notifyReady()
  }

  #runInline (job: Job): void {
    this.stats.inline++
    try {
      job.resolve(verifyAttestations(job.input))
    } catch (err) {
      job.reject(err instanceof Error ? err : new Error(String(err)))
    }
  }
}
