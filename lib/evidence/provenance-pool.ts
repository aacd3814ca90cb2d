// Provenance verification off the main thread. Verifying a package's
// attestations is a few milliseconds of pure CPU (certificate chain, SCT,
// transparency log and DSSE signatures); on the main thread it competes with
// fetching, integrity and the scan. The pool runs verifyAttestations in
// worker threads:
// - lazily: no thread starts until a bundle actually needs verifying (a warm
//   run answers from the facts cache and never starts one);
// - sized from the available cores, leaving one to the main thread;
// - each worker gets the trusted root once, then per job the attestations,
//   the registry keys and the lockfile integrity;
// - idle workers do not keep the process alive, and close() ends them;
// - if a worker cannot start or dies, its jobs (and later ones) are verified
//   on the main thread: the outcome never depends on the pool.
import { existsSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
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
  { readonly id: number, readonly error: string, readonly outcome?: undefined }

interface Job {
  readonly id: number
  readonly input: VerifyAttestationsInput
  readonly resolve: (outcome: ProvenanceOutcome) => void
  readonly reject: (err: Error) => void
}

interface Slot {
  readonly worker: Worker
  readonly roots: Set<number>
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
    if (this.#broken) return Promise.resolve().then(() => verifyAttestations(input))
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, input, resolve, reject })
      this.#pump()
    })
  }

  /** ends every worker; later jobs start them again */
  async close (): Promise<void> {
    const slots = this.#slots.splice(0)
    await Promise.all(slots.map(s => s.worker.terminate().catch(() => 0)))
    // jobs a closed worker held are verified here
    for (const s of slots) if (s.job) this.#runInline(s.job)
  }

  #pump (): void {
    while (this.#queue.length) {
      let slot = this.#slots.find(s => !s.job)
      if (!slot && this.#slots.length < this.size) slot = this.#start()
      if (!slot) return
      this.#send(slot, this.#queue.shift()!)
    }
  }

  #start (): Slot | undefined {
    let worker: Worker
    try {
      // the process's node flags, less those a worker refuses (`node --input-type=module -e`)
      worker = new Worker(this.#workerUrl!, { execArgv: process.execArgv.filter(a => !a.startsWith('--input-type')) })
    } catch (err) {
      this.#fail(`the worker could not start (${err instanceof Error ? err.message : String(err)})`)
      return undefined
    }
    const slot: Slot = { worker, roots: new Set() }
    worker.unref()
    worker.on('message', (reply: PoolReply) => {
      const job = slot.job
      if (!job || job.id !== reply.id) return
      slot.job = undefined
      worker.unref()
      if (reply.error !== undefined) job.reject(new Error(reply.error))
      else job.resolve(reply.outcome)
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
  }

  #runInline (job: Job): void {
    try {
      job.resolve(verifyAttestations(job.input))
    } catch (err) {
      job.reject(err instanceof Error ? err : new Error(String(err)))
    }
  }
}
