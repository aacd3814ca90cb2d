// Capability names, the finding shape, and the small helpers every scanner
// module shares (line numbers from offsets, the per-capability example cap).
import type { ScanResult } from '../../types.js'

/** Every capability the scan can report, in the order reports list them. */
export const CAPABILITIES = [
  'install-scripts',
  'native',
  'child_process',
  'network',
  'eval',
  'dynamic-require',
  'env',
  'bin',
  'obfuscated',
] as const

export type Capability = typeof CAPABILITIES[number]

export type Finding = ScanResult['findings'][number]

/** How many example findings are kept per capability. */
export const MAX_EXAMPLES = 3

/** A finding inside one file, located by UTF-16 offset until lines are computed. */
export interface RawFinding {
  readonly capability: Capability
  readonly pos: number
  readonly detail: string
}

/** Maps offsets of a text to 1-based line numbers; the line table is built on first use. */
export class LineIndex {
  #starts: number[] | undefined
  constructor (private readonly text: string) {}

  line (pos: number): number {
    const starts = this.#starts ??= lineStarts(this.text)
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid] <= pos) lo = mid
      else hi = mid - 1
    }
    return lo + 1
  }
}

function lineStarts (text: string): number[] {
  const starts = [0]
  let i = text.indexOf('\n')
  while (i !== -1) {
    starts.push(i + 1)
    i = text.indexOf('\n', i + 1)
  }
  return starts
}

/** Collects capabilities and keeps the first few examples of each. */
export class FindingCollector {
  readonly #found = new Set<Capability>()
  readonly #examples: Finding[] = []
  readonly #counts = new Map<Capability, number>()

  has (capability: Capability): boolean {
    return this.#found.has(capability)
  }

  /** true while this capability still wants examples */
  wants (capability: Capability): boolean {
    return (this.#counts.get(capability) ?? 0) < MAX_EXAMPLES
  }

  add (finding: { capability: Capability, file: string, line?: number, detail?: string }): void {
    this.#found.add(finding.capability)
    const n = this.#counts.get(finding.capability) ?? 0
    if (n >= MAX_EXAMPLES) return
    this.#counts.set(finding.capability, n + 1)
    const out: { capability: string, file: string, line?: number, detail?: string } = {
      capability: finding.capability,
      file: finding.file,
    }
    if (finding.line !== undefined) out.line = finding.line
    if (finding.detail !== undefined) out.detail = finding.detail
    this.#examples.push(out)
  }

  /** Adds one file's raw findings, earliest first, with line numbers. */
  addRaw (file: string, text: string, raw: readonly RawFinding[], detailOverride?: string): void {
    if (raw.length === 0) return
    const lines = new LineIndex(text)
    const sorted = [...raw].sort((a, b) => a.pos - b.pos)
    for (const f of sorted) {
      if (!this.wants(f.capability)) {
        this.#found.add(f.capability)
        continue
      }
      this.add({ capability: f.capability, file, line: lines.line(f.pos), detail: detailOverride ?? f.detail })
    }
  }

  result (): ScanResult {
    const order = new Map<string, number>(CAPABILITIES.map((c, i) => [c, i]))
    const capabilities = CAPABILITIES.filter(c => this.#found.has(c))
    // stable: by capability order, then in the order found
    const findings = this.#examples
      .map((f, i) => ({ f, i }))
      .sort((a, b) => (order.get(a.f.capability)! - order.get(b.f.capability)!) || a.i - b.i)
      .map(({ f }) => f)
    return { capabilities, findings }
  }
}

/** Shortens a value for a finding's detail. */
export function clip (s: string, max = 120): string {
  const one = s.replace(/\s+/g, ' ').trim()
  return one.length > max ? `${one.slice(0, max - 1)}…` : one
}
