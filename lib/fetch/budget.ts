// A bound on what is held at once, in any unit, first come first served.
// The pipeline bounds the bytes of the largest tarballs between inflating
// and letting them go (two of them, a framework and its native binary, often
// fetched side by side, set a cold install's peak RSS); smaller packages pass,
// since queueing them behind a large extraction stalled every fetch. The side
// thread bounds its extractions in flight.
export class Budget {
  #held = 0
  readonly #waiting: Array<{ n: number, go: () => void }> = []

  /**
   * @param limit held at once by requests of `floor` or more
   * @param floor smaller requests are not counted and never wait
   */
  constructor (readonly limit: number, readonly floor = 0) {}

  get held (): number {
    return this.#held
  }

  /**
   * Resolves once `n` fits (a request larger than the limit waits until
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
