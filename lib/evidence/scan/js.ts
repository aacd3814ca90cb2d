// The precise pass: parse with acorn and look at the syntax tree, so a word
// in a comment or a string never counts, and `require(x)` is told from
// `require('x')`.
import { createRequire } from 'node:module'
import type { Options } from 'acorn'
import type { Capability, RawFinding } from './findings.js'
import { MAX_EXAMPLES, clip } from './findings.js'
import { GLOBAL_OBJECTS, NETWORK_GLOBALS, moduleCapability } from './modules.js'
import { HEX_IDENTIFIER, HEX_IDENTIFIER_THRESHOLD, LONG_STRING, blobDetail, findBlob, hexEscapedText } from './obfuscation.js'

const require = createRequire(import.meta.url)
// loaded on first parse: scan results of known tarballs come from the cache
let acornModule: typeof import('acorn') | undefined
const acorn = (): typeof import('acorn') => (acornModule ??= require('acorn'))

type SourceType = 'module' | 'script'

const BASE_OPTIONS: Omit<Options, 'sourceType'> = {
  ecmaVersion: 'latest',
  allowHashBang: true,
  allowReturnOutsideFunction: true,
  allowAwaitOutsideFunction: true,
}

const MODULE_SYNTAX = /\b(?:import|export)\b/

/** Parses as module then script (or the reverse when nothing looks like ESM); undefined when both fail. */
export function parseJs (text: string, hint?: SourceType): any {
  const order: SourceType[] = hint === 'module'
    ? ['module']
    : hint === 'script'
      ? ['script', 'module']
      : MODULE_SYNTAX.test(text) ? ['module', 'script'] : ['script', 'module']
  for (const sourceType of order) {
    try {
      return acorn().parse(text, { ...BASE_OPTIONS, sourceType })
    } catch {
      // try the next source type
    }
  }
  return undefined
}

/** The value of a string literal or an expression-free template, else undefined. */
function staticString (node: any): string | undefined {
  if (!node) return undefined
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0]?.value.cooked ?? undefined
  return undefined
}

/** `a.b` / `a['b']` property name when static */
function propertyName (member: any): string | undefined {
  if (!member.computed) return member.property.type === 'Identifier' ? member.property.name : undefined
  return staticString(member.property)
}

function isIdent (node: any, name: string): boolean {
  return node?.type === 'Identifier' && node.name === name
}

/** `globalThis.x`, `window['x']`... */
function globalMember (node: any): string | undefined {
  if (node?.type !== 'MemberExpression') return undefined
  if (node.object.type !== 'Identifier' || !GLOBAL_OBJECTS.has(node.object.name)) return undefined
  return propertyName(node)
}

/** `process` or `globalThis.process` */
function isProcess (node: any): boolean {
  return isIdent(node, 'process') || globalMember(node) === 'process'
}

/** a short, readable rendering of a specifier expression */
function describe (node: any, text: string): string {
  return clip(text.slice(node.start, node.end), 60)
}

/**
 * Walks a parsed program and returns its findings. Iterative, so deeply
 * nested minified code cannot overflow the stack.
 *
 * `only`: the capabilities the caller will use. The walk ends as soon as each
 * of them has its MAX_EXAMPLES findings: past that point every finding would
 * be one of those (dropped by the cap) or one the caller ignores, so the
 * result is the same as a full walk's for these capabilities.
 */
export function analyzeProgram (program: any, text: string, only?: ReadonlySet<Capability>): RawFinding[] {
  const findings: RawFinding[] = []
  const seen = new Set<string>()
  const counts = new Map<string, number>()
  /** capabilities of `only` still short of MAX_EXAMPLES (the walk stops at 0) */
  let open = only === undefined ? -1 : only.size
  const add = (capability: Capability, pos: number, detail: string): void => {
    const key = `${capability}:${pos}`
    const n = counts.get(capability) ?? 0
    // the walk is in source order: the first few are the examples kept
    if (n >= MAX_EXAMPLES || seen.has(key)) return
    seen.add(key)
    counts.set(capability, n + 1)
    findings.push({ capability, pos, detail })
    if (n + 1 === MAX_EXAMPLES && open > 0 && only!.has(capability)) open--
  }
  /** names bound to a require function: `const r = createRequire(...)`, `const req = require` */
  const requireAliases = new Set<string>(['require'])
  let hexIdentifiers = 0
  let firstHexIdentifier = -1

  const isRequire = (callee: any): boolean => {
    if (callee.type === 'Identifier') return requireAliases.has(callee.name)
    if (callee.type === 'MemberExpression') {
      // module.require('x')
      return isIdent(callee.object, 'module') && propertyName(callee) === 'require'
    }
    // createRequire(import.meta.url)('x')
    if (callee.type === 'CallExpression') return isCreateRequire(callee)
    return false
  }
  const isCreateRequire = (call: any): boolean => {
    const c = call.callee
    return isIdent(c, 'createRequire') || (c.type === 'MemberExpression' && propertyName(c) === 'createRequire')
  }
  const moduleUse = (spec: string, pos: number, detail: string): void => {
    const cap = moduleCapability(spec)
    if (cap) add(cap, pos, detail)
  }
  const strings = (value: string, raw: string, pos: number): void => {
    if (value.length > LONG_STRING) {
      const blob = findBlob(value)
      if (blob) add('obfuscated', pos, blobDetail(blob))
    }
    if (hexEscapedText(raw) >= 0) add('obfuscated', pos, 'hex-escaped text')
  }

  // (node, parent) pairs; a node's children are pushed so that they pop in source order
  const stack: any[] = [program, null]
  while (stack.length > 0 && open !== 0) {
    const parent = stack.pop()
    const node = stack.pop()

    switch (node.type) {
      case 'CallExpression': {
        const callee = node.callee
        if (isRequire(callee)) {
          const arg = node.arguments[0]
          if (arg === undefined) break
          const spec = staticString(arg)
          if (spec !== undefined) moduleUse(spec, node.start, `require('${spec}')`)
          else add('dynamic-require', node.start, `require(${describe(arg, text)})`)
        } else if (isIdent(callee, 'fetch') || globalMember(callee) === 'fetch') {
          add('network', node.start, 'fetch()')
        } else if (isIdent(callee, 'eval') || globalMember(callee) === 'eval' ||
          (callee.type === 'SequenceExpression' && isIdent(callee.expressions.at(-1), 'eval'))) {
          add('eval', node.start, 'eval()')
        } else if (isIdent(callee, 'Function') || globalMember(callee) === 'Function') {
          add('eval', node.start, 'Function()')
        }
        break
      }
      case 'NewExpression':
        if (isIdent(node.callee, 'Function') || globalMember(node.callee) === 'Function') add('eval', node.start, 'new Function()')
        break
      case 'ImportExpression': {
        const spec = staticString(node.source)
        if (spec !== undefined) moduleUse(spec, node.start, `import('${spec}')`)
        else add('dynamic-require', node.start, `import(${describe(node.source, text)})`)
        break
      }
      case 'ImportDeclaration': {
        const spec = node.source.value as string
        moduleUse(spec, node.start, `import '${spec}'`)
        if (spec === 'process' || spec === 'node:process') {
          for (const s of node.specifiers) {
            if (s.type === 'ImportSpecifier' && (s.imported.name ?? s.imported.value) === 'env') add('env', node.start, `import { env } from '${spec}'`)
          }
        }
        break
      }
      case 'ExportAllDeclaration':
      case 'ExportNamedDeclaration':
        if (node.source) moduleUse(node.source.value, node.start, `export from '${node.source.value}'`)
        break
      case 'MemberExpression': {
        const name = propertyName(node)
        if (name === 'env' && isProcess(node.object)) {
          const outer = parent?.type === 'MemberExpression' && parent.object === node ? propertyName(parent) : undefined
          add('env', node.start, outer !== undefined ? `process.env.${clip(outer, 60)}` : 'process.env')
        } else if (name !== undefined && NETWORK_GLOBALS.has(name) && node.object.type === 'Identifier' && GLOBAL_OBJECTS.has(node.object.name)) {
          add('network', node.start, name)
        }
        break
      }
      case 'VariableDeclarator': {
        const init = node.init
        if (node.id.type === 'Identifier' && init) {
          if (isIdent(init, 'require') || (init.type === 'CallExpression' && isCreateRequire(init))) requireAliases.add(node.id.name)
        } else if (node.id.type === 'ObjectPattern' && init && isProcess(init)) {
          // const { env } = process
          for (const p of node.id.properties) {
            if (p.type === 'Property' && (p.computed ? staticString(p.key) : p.key.name ?? p.key.value) === 'env') add('env', node.start, '{ env } = process')
          }
        }
        break
      }
      case 'Identifier': {
        const name: string = node.name
        if (name.charCodeAt(0) === 95 /* _ */ && HEX_IDENTIFIER.test(name)) {
          if (hexIdentifiers++ === 0) firstHexIdentifier = node.start
        } else if (NETWORK_GLOBALS.has(name) && isReference(node, parent)) {
          add('network', node.start, name)
        }
        break
      }
      case 'Literal':
        if (typeof node.value === 'string') strings(node.value, node.raw ?? '', node.start)
        break
      case 'TemplateElement':
        strings(node.value.cooked ?? node.value.raw, node.value.raw, node.start)
        break
    }

    // children (node-valued properties, in property order, then array order),
    // pushed in that order and then reversed in place: no per-node allocation
    const base = stack.length
    for (const key in node) {
      const v = node[key]
      if (v === null || typeof v !== 'object') continue
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const c = v[i]
          if (c !== null && typeof c === 'object' && typeof c.type === 'string') stack.push(c, node)
        }
      } else if (typeof v.type === 'string') {
        stack.push(v, node)
      }
    }
    for (let i = base, j = stack.length - 2; i < j; i += 2, j -= 2) {
      const c = stack[i]
      stack[i] = stack[j]
      stack[j] = c
      // the parents of a node's children are all that node: no need to swap them
    }
  }

  if (hexIdentifiers >= HEX_IDENTIFIER_THRESHOLD) {
    add('obfuscated', firstHexIdentifier, `_0x identifiers (${hexIdentifiers})`)
  }
  return findings
}

/** false for names that are not variable references: `a.WebSocket`, `{ WebSocket: 1 }`, `class { WebSocket() {} }` */
function isReference (node: any, parent: any): boolean {
  if (!parent) return true
  switch (parent.type) {
    case 'MemberExpression':
      return parent.object === node || parent.computed
    case 'Property':
    case 'MethodDefinition':
    case 'PropertyDefinition':
      // the value (incl. `{ WebSocket }` shorthand) or a computed key
      return parent.value === node || (parent.computed && parent.key === node)
    case 'ExportSpecifier':
      return parent.local === node
    case 'ImportSpecifier':
      return parent.local === node
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
      return false
    default:
      return true
  }
}

/** Parses and analyses one file; undefined when acorn cannot parse it. */
export function analyzeJs (text: string, hint?: SourceType, only?: ReadonlySet<Capability>): RawFinding[] | undefined {
  const program = parseJs(text, hint)
  if (program === undefined) return undefined
  return analyzeProgram(program, text, only)
}
