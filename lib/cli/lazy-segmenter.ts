// Injected into the one-file yargs (package.json `bundle-yargs`) in place of
// Intl.Segmenter: its string-width copies make three segmenters when they
// load, about 15 ms of every run, and use them only to measure help text.
// This makes the real one on first use. Not imported by safe-install itself.
export class LazySegmenter {
  readonly #args: ConstructorParameters<typeof Intl.Segmenter>
  #real: Intl.Segmenter | undefined

  constructor (...args: ConstructorParameters<typeof Intl.Segmenter>) {
    this.#args = args
  }

  // globalThis: the bundle's define replaces `Intl.Segmenter` itself
  #get (): Intl.Segmenter {
    return (this.#real ??= new globalThis.Intl.Segmenter(...this.#args))
  }

  segment (input: string): Intl.Segments {
    return this.#get().segment(input)
  }

  resolvedOptions (): Intl.ResolvedSegmenterOptions {
    return this.#get().resolvedOptions()
  }
}
