// A bound on the bytes held by the largest packages between inflating their
// tarball and letting it go: two of them (a framework and its native binary,
// often fetched side by side) no longer sit in memory at once, which set a
// cold install's peak RSS. Smaller packages pass: queueing them behind a
// large one stalled every fetch while it was extracted.
export class ByteBudget {
  #held = 0
  readonly #waiting: Array<{ n: number, go: () => void }> = []

  /**
   * @param limit bytes held at once by requests of `floor` bytes or more
   * @param floor smaller requests are not counted and never wait
   */
  constructor (readonly limit: number, readonly floor = 0) {}

  get held (): number {
    return this.#held
  }

  /**
   * Resolves once `n` bytes fit (a request larger than the limit waits until
   * nothing else is held, then runs alone); returns the release, which is
   * safe to call more than once.
   */
  async acquire (n: number): Promise<() => void> {
    const size = Math.max(0, n)
    if (size < this.floor) return () => {}
    if (this.#waiting.length || !this.#fits(size)) {
      await new Promise<void>(resolve => this.#waiting.push({ n: size, go: resolve }))
    } else {
      this.#held += size
    }
    let released = false
    return () => {
      if (released) return
      released = true
      this.#held -= size
      this.#wake()
    }
  }

  #fits (n: number): boolean {
    return this.#held === 0 || this.#held + n <= this.limit
  }

  // first come, first served: a large request is not starved by small ones
  #wake (): void {
    while (this.#waiting.length && this.#fits(this.#waiting[0].n)) {
      const next = this.#waiting.shift()!
      this.#held += next.n
      next.go()
    }
  }
}

/** The inflated size a gzip member declares in its trailer (mod 2^32), or the length of data that is not gzip. */
export function inflatedSize (data: Buffer): number {
  if (data.length >= 18 && data[0] === 0x1f && data[1] === 0x8b) return data.readUInt32LE(data.length - 4)
  return data.length
}
