// Runs async work with a bounded number in flight.
export async function mapLimit<T, R> (items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let failed: { error: unknown } | undefined
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const i = next++
      try {
        results[i] = await fn(items[i], i)
      } catch (err) {
        failed ??= { error: err }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  if (failed) throw failed.error
  return results
}

/**
 * Lets the event loop run (I/O callbacks included) between batches of
 * synchronous work: a long loop of system calls does not hold up answers
 * that arrive meanwhile.
 */
export function turn (): Promise<void> {
  return new Promise(resolve => setImmediate(resolve))
}
