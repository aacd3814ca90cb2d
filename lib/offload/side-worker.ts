// The side thread (side-thread.ts): runs jobs.ts's jobs as the main thread
// posts them, and answers each with its result or its error.
import { parentPort } from 'node:worker_threads'
import { createJobs, type JobKind } from './jobs.js'
import type { SideReply, SideRequest } from './side-thread.js'

const jobs = createJobs()

parentPort!.on('message', (msg: SideRequest) => {
  const run = jobs[msg.kind as JobKind] as (p: unknown) => Promise<unknown>
  run(msg.payload).then(
    result => parentPort!.postMessage({ id: msg.id, result } satisfies SideReply),
    err => {
      const e = err instanceof Error ? err : new Error(String(err))
      parentPort!.postMessage({ id: msg.id, error: { message: e.message, code: (e as NodeJS.ErrnoException).code, stack: e.stack } } satisfies SideReply)
    })
})
