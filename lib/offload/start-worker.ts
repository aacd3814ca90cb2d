// Worker threads started with the process's node flags, as far as a worker
// takes them: `node --max-old-space-size=… safe-install` would otherwise
// leave every worker unstarted (ERR_WORKER_INVALID_EXEC_ARGV), and its jobs
// on the main thread.
import { Worker, type WorkerOptions } from 'node:worker_threads'

/**
 * A worker with the process's flags, less `--input-type` (`node
 * --input-type=module -e`); started again without the per-process V8 flags
 * a worker refuses. Throws what `new Worker` throws otherwise.
 */
export function startWorker (script: URL | string, options: Omit<WorkerOptions, 'execArgv'> = {}): Worker {
  const execArgv = process.execArgv.filter(a => !a.startsWith('--input-type'))
  try {
    return new Worker(script, { ...options, execArgv })
  } catch (err) {
    const fewer = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_INVALID_EXEC_ARGV' ? withoutRefused(execArgv, (err as Error).message) : undefined
    if (!fewer) throw err
    return new Worker(script, { ...options, execArgv: fewer })
  }
}

/**
 * The flags without those an ERR_WORKER_INVALID_EXEC_ARGV message names
 * (`Initiated Worker with invalid execArgv flags: --a=1, --b`); undefined when
 * it names none of them.
 */
export function withoutRefused (execArgv: readonly string[], message: string): string[] | undefined {
  const named = new Set(message.slice(message.indexOf(':') + 1).split(',').map(f => f.trim()).filter(f => f.startsWith('-')))
  const kept = execArgv.filter(a => !named.has(a))
  return kept.length < execArgv.length ? kept : undefined
}
