// A one-line progress indicator on a TTY's stderr; nothing in CI or pipes.
export interface Progress { update (done: number, total: number): void, done (): void }

export function createProgress (enabled: boolean, label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!enabled) return { update () {}, done () {} }
  let last = 0
  let shown = false
  return {
    update (done, total) {
      const now = Date.now()
      if (now - last < 80 && done !== total) return
      last = now
      shown = true
      stream.write(`\r\x1b[K${label} ${done}/${total}`)
    },
    done () {
      if (shown) stream.write('\r\x1b[K')
    },
  }
}
