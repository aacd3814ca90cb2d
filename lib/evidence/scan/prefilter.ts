// The cheap pass over a file's raw text. It finds everything that *might* be
// a capability (so only those files are parsed), and its hits are the
// fallback result for files that cannot be parsed (too large, syntax acorn
// does not know such as JSX or Flow). Being text-level, it cannot tell code
// from comments and strings: the parser settles that.
import { MAX_EXAMPLES, type Capability, type RawFinding } from './findings.js'
import { moduleCapability } from './modules.js'
import { HEX_IDENTIFIER_THRESHOLD, findBlob, blobDetail, hexEscapedText } from './obfuscation.js'

/** `require('x')`, `import('x')`, `r('x')`, `from 'x'`, `import 'x'` */
const MODULE_USE = /(?:\(\s*|\bfrom\s*|\bimport\s*)(['"`])((?:node:)?[a-z_0-9/]{2,20})\1/g
const FETCH_CALL = /(?<![.\w$])fetch\s*(?:\?\.\s*)?\(|\b(?:globalThis|global|window|self)\s*(?:\??\.\s*fetch|\[\s*(['"`])fetch\1\s*\])\s*(?:\?\.\s*)?\(/g
const NETWORK_GLOBAL = /\b(?:WebSocket|XMLHttpRequest)\b/g
const EVAL_CALL = /(?<![.\w$])eval\s*(?:\?\.\s*)?\(|,\s*eval\s*\)|\b(?:globalThis|global|window|self)\s*(?:\??\.\s*eval|\[\s*(['"`])eval\1\s*\])\s*(?:\?\.\s*)?\(/g
const FUNCTION_CALL = /(?<![.\w$])Function\s*\(|\b(?:globalThis|global|window|self)\s*\.\s*Function\s*\(/g
/** a require( whose argument is not a plain string literal */
const DYNAMIC_REQUIRE = /(?<![.\w$])require\s*\((?!\s*(['"])[^'"\n]*\1\s*\)|\s*`[^`$]*`\s*\)|\s*\))/g
const DYNAMIC_IMPORT = /(?<![.\w$])import\s*\((?!\s*(['"])[^'"\n]*\1\s*[,)]|\s*`[^`$]*`\s*[,)])/g
const ENV_ACCESS = /\bprocess\s*(?:\.\s*env\b|\[\s*(['"`])env\1\s*\])|\{[^{}]*\benv\b[^{}]*\}\s*=\s*process\b|\bimport\s*\{[^}]*\benv\b[^}]*\}\s*from\s*(['"])(?:node:)?process\2/g
const HEX_IDENTIFIERS = /\b_0x[0-9a-fA-F]{4,}\b/g

export interface PrefilterResult {
  /** capabilities this file might have: parse it to be sure (empty: nothing to parse for) */
  readonly candidates: ReadonlySet<Capability>
  /** what the text-level pass found (the result when parsing fails) */
  readonly findings: readonly RawFinding[]
}

/** the capabilities `prefilter` can report: a file is read only while one of them is wanted */
export const PREFILTER_CAPABILITIES: readonly Capability[] = ['child_process', 'network', 'eval', 'dynamic-require', 'env', 'obfuscated']

/**
 * Scans raw JavaScript text with substring checks and a few linear regexes.
 * `wanted`: when given, only the rules that can report a wanted capability
 * run (a rule for child_process, eval and network runs while any of them is
 * wanted), so for the wanted capabilities the result is the same as a full
 * pass; the others may be missing.
 */
export function prefilter (text: string, wanted: (capability: Capability) => boolean = () => true): PrefilterResult {
  const findings: RawFinding[] = []
  const counts = new Map<Capability, number>()
  const candidates = new Set<Capability>()
  const add = (capability: Capability, pos: number, detail: string): void => {
    candidates.add(capability)
    const n = counts.get(capability) ?? 0
    if (n >= MAX_EXAMPLES) return
    counts.set(capability, n + 1)
    findings.push({ capability, pos, detail })
  }
  const full = (capability: Capability): boolean => (counts.get(capability) ?? 0) >= MAX_EXAMPLES
  const each = (re: RegExp, capability: Capability, detail: (m: RegExpExecArray) => string | undefined): void => {
    re.lastIndex = 0
    let m: RegExpExecArray | null
    while (!full(capability) && (m = re.exec(text)) !== null) {
      const d = detail(m)
      if (d !== undefined) add(capability, m.index, d)
    }
  }

  // built-in modules: child_process, vm, net/http/...
  let m: RegExpExecArray | null
  const network = wanted('network')
  const evaluates = wanted('eval')
  if (network || evaluates || wanted('child_process')) {
    MODULE_USE.lastIndex = 0
    while ((m = MODULE_USE.exec(text)) !== null) {
      const cap = moduleCapability(m[2])
      if (cap) add(cap, m.index, `'${m[2]}'`)
    }
  }
  if (network) {
    if (text.includes('fetch')) each(FETCH_CALL, 'network', () => 'fetch()')
    if (text.includes('WebSocket') || text.includes('XMLHttpRequest')) each(NETWORK_GLOBAL, 'network', x => x[0])
  }
  if (evaluates) {
    if (text.includes('eval')) each(EVAL_CALL, 'eval', () => 'eval()')
    if (text.includes('Function')) each(FUNCTION_CALL, 'eval', () => 'Function()')
  }
  if (wanted('dynamic-require')) {
    if (text.includes('require')) each(DYNAMIC_REQUIRE, 'dynamic-require', () => 'require(<expr>)')
    if (text.includes('import')) each(DYNAMIC_IMPORT, 'dynamic-require', () => 'import(<expr>)')
    // `const r = createRequire(...); r(name)`: only the parser sees the alias
    if (text.includes('createRequire')) candidates.add('dynamic-require')
  }
  // every alternative of ENV_ACCESS spells `process`
  if (wanted('env') && text.includes('env') && text.includes('process')) each(ENV_ACCESS, 'env', () => 'process.env')

  if (!wanted('obfuscated')) return { candidates, findings }
  // obfuscation
  if (text.includes('_0x')) {
    HEX_IDENTIFIERS.lastIndex = 0
    let first = -1
    let n = 0
    while ((m = HEX_IDENTIFIERS.exec(text)) !== null) {
      if (first < 0) first = m.index
      if (++n >= HEX_IDENTIFIER_THRESHOLD) break
    }
    if (n > 0) candidates.add('obfuscated')
    if (n >= HEX_IDENTIFIER_THRESHOLD) findings.push({ capability: 'obfuscated', pos: first, detail: '_0x identifiers' })
  }
  const escaped = hexEscapedText(text)
  if (escaped >= 0) add('obfuscated', escaped, 'hex-escaped text')
  const blob = findBlob(text)
  if (blob) add('obfuscated', blob.index, blobDetail(blob))

  return { candidates, findings }
}
