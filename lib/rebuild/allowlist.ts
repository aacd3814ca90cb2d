// The install-script allowlists people already keep, read from the project
// root, and the pure decision `isAllowed(entry, lists)`.
//
//  - npm (11.16+): package.json `allowScripts` { spec: boolean }, or the
//    `allow-scripts` list from .npmrc (package.json wins, as npm resolves it).
//    Keys are npm-package-arg specs: `name`, `name@1.2.3`, `name@1.2.3 || 1.2.4`,
//    git / file / remote specs. Ranges and dist-tags are ignored (as npm).
//  - pnpm (10/11): `pnpm.onlyBuiltDependencies` (allow), `pnpm.neverBuiltDependencies`
//    and `pnpm.ignoredBuiltDependencies` (deny), `pnpm.allowBuilds` or top-level
//    `allowBuilds` { name | name@v1 || v2 | glob: boolean }, and the same keys in
//    pnpm-workspace.yaml (a small YAML subset is read: block lists, flow lists,
//    block maps of scalars).
//  - LavaMoat: `lavamoat.allowScripts` { canonical name (`a>b`): boolean }.
//
// A package's identity is its lockfile entry (PlanEntry), never the package.json
// inside its tarball: a tarball claiming an allowed name gets nothing. A deny
// in any list wins; a package no list mentions is not allowed.
import { readFile } from 'node:fs/promises'
import { resolve, join } from 'node:path'
import { createRequire } from 'node:module'
import semver from 'semver'
import type { Plan, PlanEntry } from '../types.js'
import { matchesNamePattern } from '../policy/release-age.js'

const require = createRequire(import.meta.url)
// loaded when a list has entries: most projects have none, and ci reads the lists every run
let npaModule: typeof import('npm-package-arg') | undefined
const npa = (spec: string, where?: string): ReturnType<typeof import('npm-package-arg')> => (npaModule ??= require('npm-package-arg'))(spec, where)

export interface NpmAllowScripts {
  /** where the policy came from */
  readonly source: 'package.json' | '.npmrc'
  readonly policy: Readonly<Record<string, boolean>>
}

export interface PnpmAllowBuilds {
  /** e.g. 'package.json pnpm.onlyBuiltDependencies' per key */
  readonly rules: readonly { key: string, allow: boolean, source: string }[]
}

export interface LavamoatAllowScripts {
  readonly policy: Readonly<Record<string, boolean>>
}

export interface AllowLists {
  /** project root: file/directory specs resolve against it */
  readonly root: string
  readonly npm?: NpmAllowScripts
  readonly pnpm?: PnpmAllowBuilds
  readonly lavamoat?: LavamoatAllowScripts
  /** ignored entries and unreadable sources, for the user */
  readonly warnings: readonly string[]
}

export interface AllowDecision {
  readonly allowed: boolean
  /** which list and entry decided, or why nothing matched */
  readonly by: string
  /** an explicit deny matched */
  readonly denied?: boolean
}

// ---- reading ----

export interface LoadAllowListsOptions {
  /** npm's `allow-scripts` from .npmrc (flatOptions.allowScripts); package.json `allowScripts` wins over it */
  readonly npmrcAllowScripts?: readonly string[] | string
}

/** Reads `<prefix>/package.json` and, when present, `<prefix>/pnpm-workspace.yaml`. */
export async function loadAllowLists (prefix: string, opts: LoadAllowListsOptions = {}): Promise<AllowLists> {
  const warnings: string[] = []
  let pkg: Record<string, any> = {}
  try {
    pkg = JSON.parse(await readFile(join(prefix, 'package.json'), 'utf8'))
  } catch (err) {
    warnings.push(`package.json could not be read: ${(err as Error).message}`)
  }
  let workspaceYaml: string | undefined
  try {
    workspaceYaml = await readFile(join(prefix, 'pnpm-workspace.yaml'), 'utf8')
  } catch {}
  const lists = parseAllowLists(pkg, { root: prefix, workspaceYaml, npmrcAllowScripts: opts.npmrcAllowScripts })
  return { ...lists, warnings: [...warnings, ...lists.warnings] }
}

/** Pure: the allowlists from a parsed package.json (and pnpm-workspace.yaml text). */
export function parseAllowLists (pkg: Readonly<Record<string, any>>, opts: {
  root: string
  workspaceYaml?: string
  npmrcAllowScripts?: readonly string[] | string
}): AllowLists {
  const warnings: string[] = []

  // npm
  let npmLists: NpmAllowScripts | undefined
  const fromPkg = isPlainObject(pkg?.allowScripts)
    ? validateNpmPolicy(booleanMap(pkg.allowScripts, 'package.json allowScripts', warnings), 'package.json allowScripts', warnings)
    : undefined
  const rcNames = parseAllowScriptsList(opts.npmrcAllowScripts)
  const fromRc = rcNames.length
    ? validateNpmPolicy(Object.fromEntries(rcNames.map(n => [n, true])), '.npmrc allow-scripts', warnings)
    : undefined
  if (pkg?.allowScripts !== undefined && !isPlainObject(pkg.allowScripts)) {
    warnings.push('package.json allowScripts is not an object of "spec": true|false; ignored')
  }
  if (fromPkg) {
    if (fromRc) warnings.push('.npmrc allow-scripts is ignored because package.json declares allowScripts (as npm does)')
    npmLists = { source: 'package.json', policy: fromPkg }
  } else if (fromRc) {
    npmLists = { source: '.npmrc', policy: fromRc }
  }

  // pnpm
  const rules: { key: string, allow: boolean, source: string }[] = []
  const addNames = (value: unknown, allow: boolean, source: string): void => {
    if (value === undefined) return
    if (!Array.isArray(value)) {
      warnings.push(`${source} is not a list; ignored`)
      return
    }
    for (const v of value) {
      if (typeof v === 'string' && v.trim()) rules.push({ key: v.trim(), allow, source })
      else warnings.push(`${source}: ignoring entry ${JSON.stringify(v)}`)
    }
  }
  const addMap = (value: unknown, source: string): void => {
    if (value === undefined) return
    if (!isPlainObject(value)) {
      warnings.push(`${source} is not a map of name: true|false; ignored`)
      return
    }
    for (const [k, v] of Object.entries(value)) {
      if (v === true || v === false) rules.push({ key: k.trim(), allow: v, source })
      else warnings.push(`${source}: "${k}" is ${JSON.stringify(v)}, not true or false; it allows nothing`)
    }
  }
  const readPnpm = (obj: Record<string, any> | undefined, where: string): void => {
    if (!isPlainObject(obj)) return
    addNames(obj.onlyBuiltDependencies, true, `${where}onlyBuiltDependencies`)
    addNames(obj.neverBuiltDependencies, false, `${where}neverBuiltDependencies`)
    addNames(obj.ignoredBuiltDependencies, false, `${where}ignoredBuiltDependencies`)
    addMap(obj.allowBuilds, `${where}allowBuilds`)
  }
  readPnpm(pkg?.pnpm, 'package.json pnpm.')
  addMap(pkg?.allowBuilds, 'package.json allowBuilds')
  if (opts.workspaceYaml !== undefined) {
    const y = parseWorkspaceYaml(opts.workspaceYaml)
    warnings.push(...y.warnings.map(w => `pnpm-workspace.yaml: ${w}`))
    readPnpm(y.values, 'pnpm-workspace.yaml ')
  }
  for (const r of rules) {
    const parsed = parsePnpmKey(r.key)
    if (!parsed) warnings.push(`${r.source}: ignoring "${r.key}": only names, globs and exact versions joined by "||" are allowed`)
  }
  const pnpm = rules.length ? { rules: rules.filter(r => parsePnpmKey(r.key)) } : undefined

  // LavaMoat
  let lavamoat: LavamoatAllowScripts | undefined
  const lm = pkg?.lavamoat?.allowScripts
  if (lm !== undefined) {
    if (isPlainObject(lm)) {
      const policy = booleanMap(lm, 'package.json lavamoat.allowScripts', warnings)
      delete policy.$root$
      lavamoat = { policy }
    } else {
      warnings.push('package.json lavamoat.allowScripts is not an object; ignored')
    }
  }

  return { root: opts.root, npm: npmLists, pnpm, lavamoat, warnings }
}

/** npm's list form (`a, b` or [a, b]), as @npmcli/config's parse-allow-scripts-list. */
export function parseAllowScriptsList (raw: unknown): string[] {
  const parts: string[] = []
  const entries = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : []
  for (const entry of entries) {
    if (typeof entry !== 'string') continue
    for (const part of entry.split(',')) {
      const t = part.trim()
      if (t) parts.push(t)
    }
  }
  return parts
}

function booleanMap (obj: Record<string, unknown>, source: string, warnings: string[]): Record<string, boolean> {
  const out: Record<string, boolean> = {}
  for (const [k, v] of Object.entries(obj)) {
    if (v === true || v === false) out[k] = v
    else warnings.push(`${source}: "${k}" is ${JSON.stringify(v)}, not true or false; ignored`)
  }
  return out
}

/** npm's validatePolicy: drop unparseable keys, dist-tags, ranges other than exact `||` lists, aliases. */
function validateNpmPolicy (policy: Record<string, boolean>, source: string, warnings: string[]): Record<string, boolean> | undefined {
  const cleaned: Record<string, boolean> = {}
  for (const [key, value] of Object.entries(policy)) {
    let parsed: any
    try {
      parsed = npa(key)
    } catch {
      warnings.push(`${source}: ignoring unparseable entry "${key}"`)
      continue
    }
    if (parsed.type === 'tag') {
      warnings.push(`${source}: ignoring "${key}": dist-tags are not allowed; use exact versions joined by "||", or the bare name`)
      continue
    }
    if (parsed.type === 'alias') {
      warnings.push(`${source}: ignoring "${key}": aliases match nothing; name the real package`)
      continue
    }
    if (parsed.type === 'range' && !isNameOnly(parsed) && !isExactVersionDisjunction(parsed.fetchSpec)) {
      warnings.push(`${source}: ignoring "${key}": semver ranges are not allowed; use exact versions joined by "||"`)
      continue
    }
    cleaned[key] = value
  }
  return Object.keys(cleaned).length ? cleaned : undefined
}

function isNameOnly (parsed: any): boolean {
  return parsed.fetchSpec === '*' || parsed.rawSpec === '' || parsed.rawSpec === '*'
}

export function isExactVersionDisjunction (spec: unknown): boolean {
  if (typeof spec !== 'string' || !spec.trim()) return false
  return spec.split('||').map(p => p.trim()).every(p => p !== '' && semver.valid(p) !== null)
}

/** pnpm keys: `name`, `@scope/*` globs, `name@1.0.0`, `name@1.0.0 || 2.0.0`. */
export function parsePnpmKey (key: string): { name: string, versions?: string[] } | undefined {
  const at = key.indexOf('@', 1)
  if (at < 0) return key ? { name: key } : undefined
  const name = key.slice(0, at)
  const versions = key.slice(at + 1).split('||').map(v => v.trim())
  if (!name || !versions.every(v => semver.valid(v) !== null)) return undefined
  return { name, versions: versions.map(v => semver.valid(v)!) }
}

// ---- a small YAML subset for pnpm-workspace.yaml ----

const YAML_KEYS = ['onlyBuiltDependencies', 'neverBuiltDependencies', 'ignoredBuiltDependencies', 'allowBuilds']

/**
 * Reads only the four build-permission keys of pnpm-workspace.yaml, when
 * written as block lists (`- name`), flow lists (`[a, b]`) or block maps of
 * scalars (`name: true`). Anything else under them is reported, not guessed.
 */
export function parseWorkspaceYaml (text: string): { values: Record<string, any>, warnings: string[] } {
  const values: Record<string, any> = {}
  const warnings: string[] = []
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = stripComment(lines[i])
    const m = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line)
    if (!m || !YAML_KEYS.includes(m[1])) continue
    const key = m[1]
    const rest = m[2].trim()
    // the block under the key: following lines that are indented or blank
    const block: string[] = []
    while (i + 1 < lines.length && (/^\s/.test(lines[i + 1]) || stripComment(lines[i + 1]).trim() === '' || /^-\s/.test(lines[i + 1]))) {
      const l = stripComment(lines[++i])
      if (l.trim() !== '') block.push(l)
    }
    try {
      values[key] = rest ? parseFlow(rest) : parseBlock(block)
    } catch (err) {
      warnings.push(`could not read ${key} (${(err as Error).message}); it is ignored`)
    }
  }
  return { values, warnings }
}

function stripComment (line: string): string {
  let q: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (q) {
      if (c === q) q = undefined
    } else if (c === '"' || c === "'") {
      q = c
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) {
      return line.slice(0, i).trimEnd()
    }
  }
  return line.trimEnd()
}

function scalar (s: string): string | boolean | null {
  const t = s.trim()
  if (/^"(?:[^"\\]|\\.)*"$/.test(t)) return JSON.parse(t)
  if (/^'(?:[^']|'')*'$/.test(t)) return t.slice(1, -1).replace(/''/g, "'")
  if (/^[&*!|>{[]/.test(t) || t.includes(': ')) throw new Error(`unsupported YAML: ${t}`)
  if (t === 'true') return true
  if (t === 'false') return false
  if (t === '' || t === 'null' || t === '~') return null
  return t
}

function splitFlow (body: string): string[] {
  const out: string[] = []
  let q: string | undefined
  let start = 0
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (q) { if (c === q) q = undefined } else if (c === '"' || c === "'") q = c
    else if (c === '[' || c === '{') throw new Error('nested flow collections')
    else if (c === ',') { out.push(body.slice(start, i)); start = i + 1 }
  }
  out.push(body.slice(start))
  return out.map(s => s.trim()).filter(s => s !== '')
}

function parseFlow (rest: string): unknown {
  if (rest.startsWith('[') && rest.endsWith(']')) return splitFlow(rest.slice(1, -1)).map(scalar)
  if (rest.startsWith('{') && rest.endsWith('}')) {
    const obj: Record<string, unknown> = {}
    for (const part of splitFlow(rest.slice(1, -1))) {
      const [k, v] = splitKey(part)
      obj[k] = scalar(v)
    }
    return obj
  }
  if (rest === '[]') return []
  if (rest === '{}') return {}
  throw new Error(`unsupported YAML: ${rest}`)
}

function splitKey (s: string): [string, string] {
  const t = s.trim()
  let key: string
  let rest: string
  const qm = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')\s*:(?:\s+(.*))?$/.exec(t)
  if (qm) {
    key = scalar(qm[1]) as string
    rest = qm[2] ?? ''
  } else {
    const i = t.search(/:(\s|$)/)
    if (i <= 0) throw new Error(`not a "key: value" line: ${t}`)
    key = t.slice(0, i).trim()
    rest = t.slice(i + 1)
  }
  return [key, rest.trim()]
}

function parseBlock (block: readonly string[]): unknown {
  if (!block.length) return null
  const indent = (l: string) => /^\s*/.exec(l)![0].length
  const base = indent(block[0])
  if (block.some(l => indent(l) !== base)) throw new Error('nested or multi-line values')
  if (block.every(l => /^\s*-(\s|$)/.test(l))) {
    return block.map(l => {
      const v = scalar(l.replace(/^\s*-/, ''))
      if (typeof v !== 'string') throw new Error(`list entry is not a name: ${l.trim()}`)
      return v
    })
  }
  if (block.some(l => /^\s*-(\s|$)/.test(l))) throw new Error('mixed list and map')
  const obj: Record<string, unknown> = {}
  for (const l of block) {
    const [k, v] = splitKey(l)
    obj[k] = scalar(v)
  }
  return obj
}

// ---- deciding ----

/** Registry tarball URL -> name and version, as arborist's version-from-tgz. */
export function identityFromResolved (resolved: string | undefined): { name: string, version: string } | undefined {
  if (!resolved || !/^https?:\/\//.test(resolved)) return undefined
  let pathname: string
  try {
    pathname = new URL(resolved).pathname
  } catch {
    return undefined
  }
  const base = pathname.slice(pathname.lastIndexOf('/') + 1)
  if (!base.endsWith('.tgz')) return undefined
  const split = pathname.slice(1).split('/-/')
  if (split.length < 2 || split[split.length - 1] !== base) return undefined
  const pre = split[split.length - 2].split(/\/|%2f/i)
  const project = decodeURIComponent(pre.pop() ?? '')
  const scope = decodeURIComponent(pre.pop() ?? '')
  if (!project || !base.startsWith(project + '-')) return undefined
  const version = semver.parse(base.slice(project.length + 1, -4))
  if (!version) return undefined
  return { name: scope.startsWith('@') ? `${scope}/${project}` : project, version: version.version }
}

/**
 * The identity to match registry-style keys against: the lockfile entry's
 * name and version. When its registry URL names another package or version
 * the entry is inconsistent: allow keys do not match it, deny keys match
 * either identity.
 */
function registryIdentities (entry: PlanEntry): { trusted: boolean, ids: { name: string, version: string }[] } {
  const fromUrl = identityFromResolved(entry.resolved)
  const ids = [{ name: entry.name, version: entry.version }]
  if (!fromUrl) return { trusted: true, ids }
  if (fromUrl.name === entry.name && fromUrl.version === (semver.valid(entry.version) ?? entry.version)) return { trusted: true, ids }
  return { trusted: false, ids: [...ids, fromUrl] }
}

type Verdict = { value: boolean, key: string } | undefined

function npmKeyMatches (entry: PlanEntry, key: string, root: string, deny: boolean): boolean {
  let parsed: any
  try {
    parsed = npa(key, root)
  } catch {
    return false
  }
  switch (parsed.type) {
    case 'range':
    case 'version': {
      if (entry.source !== 'registry') return false
      const { trusted, ids } = registryIdentities(entry)
      if (!trusted && !deny) return false
      return ids.some(id => {
        if (id.name !== parsed.name) return false
        if (parsed.type === 'range') {
          if (isNameOnly(parsed)) return true
          if (!isExactVersionDisjunction(parsed.fetchSpec)) return false
          return semver.satisfies(id.version, parsed.fetchSpec, { loose: true })
        }
        const v = semver.valid(id.version)
        return v !== null && v === semver.valid(parsed.fetchSpec)
      })
    }
    case 'git':
      return entry.source === 'git' && gitMatches(entry.resolved, parsed)
    case 'file':
    case 'directory':
      return (entry.source === 'file' || entry.source === 'directory') && localMatches(entry, parsed, root)
    case 'remote':
      return entry.source === 'remote' && !!entry.resolved && (entry.resolved === parsed.fetchSpec || entry.resolved === parsed.saveSpec)
    default:
      return false
  }
}

function gitMatches (resolved: string | undefined, key: any): boolean {
  if (!resolved) return false
  let node: any
  try {
    node = npa(resolved)
  } catch {
    return false
  }
  if (node.type !== 'git') return false
  const noCommittish = { noCommittish: true }
  const keyHost = key.hosted?.ssh(noCommittish)
  const nodeHost = node.hosted?.ssh(noCommittish)
  if (keyHost && nodeHost) {
    if (keyHost !== nodeHost) return false
  } else if (key.fetchSpec && node.fetchSpec) {
    if (key.fetchSpec !== node.fetchSpec) return false
  } else {
    return false
  }
  const keyCommittish = key.gitCommittish || key.hosted?.committish
  if (!keyCommittish) return true
  const nodeCommittish = node.gitCommittish || node.hosted?.committish || ''
  // the lockfile's full sha must start with the key's (short) sha, never the reverse
  return !!nodeCommittish && nodeCommittish.startsWith(keyCommittish)
}

function localMatches (entry: PlanEntry, key: any, root: string): boolean {
  const candidates = new Set<string>()
  if (entry.resolved) {
    candidates.add(entry.resolved)
    candidates.add(resolve(root, entry.resolved.replace(/^file:/, '')))
  }
  if (entry.source === 'directory' && !entry.location.startsWith('node_modules/') && !entry.location.includes('/node_modules/')) {
    candidates.add(resolve(root, entry.location))
  }
  const wanted = [key.saveSpec, key.fetchSpec, key.fetchSpec && `file:${key.fetchSpec}`].filter(Boolean)
  return wanted.some(w => candidates.has(w))
}

function npmVerdict (entry: PlanEntry, lists: AllowLists): Verdict {
  const policy = lists.npm?.policy
  if (!policy) return undefined
  let allow: string | undefined
  for (const [key, value] of Object.entries(policy)) {
    if (!npmKeyMatches(entry, key, lists.root, value === false)) continue
    if (value === false) return { value: false, key }
    allow ??= key
  }
  return allow === undefined ? undefined : { value: true, key: allow }
}

function pnpmVerdict (entry: PlanEntry, lists: AllowLists): { value: boolean, key: string, source: string } | undefined {
  const rules = lists.pnpm?.rules
  if (!rules?.length) return undefined
  const { trusted, ids } = entry.source === 'registry' ? registryIdentities(entry) : { trusted: true, ids: [{ name: entry.name, version: entry.version }] }
  let allow: { key: string, source: string } | undefined
  for (const r of rules) {
    const k = parsePnpmKey(r.key)
    if (!k) continue
    if (!r.allow || trusted) {
      const hit = ids.some(id => matchesNamePattern(id.name, k.name) &&
        (!k.versions || k.versions.includes(semver.valid(id.version) ?? id.version)))
      if (!hit) continue
      if (!r.allow) return { value: false, key: r.key, source: r.source }
      allow ??= { key: r.key, source: r.source }
    }
  }
  return allow && { value: true, ...allow }
}

// LavaMoat canonical names: the shortest (by string length) path of
// dependency names from the project root, like `a>b`, as @lavamoat/aa.
const canonicalCache = new WeakMap<Plan, Map<string, string>>()

export function canonicalNames (plan: Plan): ReadonlyMap<string, string> {
  const cached = canonicalCache.get(plan)
  if (cached) return cached
  const byLocation = new Map(plan.entries.map(e => [e.location, e]))
  // a link entry stands for its target's dependencies
  const edges = (e: PlanEntry): readonly string[] => {
    if (e.source === 'link' && e.resolved && byLocation.has(e.resolved)) {
      return [...e.dependencies, ...byLocation.get(e.resolved)!.dependencies]
    }
    return e.dependencies
  }
  const best = new Map<string, string>()
  const frontier: [string, string][] = []
  const offer = (loc: string, name: string): void => {
    const prev = best.get(loc)
    if (prev !== undefined && (prev.length < name.length || (prev.length === name.length && prev <= name))) return
    best.set(loc, name)
    frontier.push([loc, name])
  }
  for (const loc of plan.rootDependencies) {
    const e = byLocation.get(loc)
    if (e) offer(loc, e.installName)
  }
  const done = new Set<string>()
  while (frontier.length) {
    let bi = 0
    for (let i = 1; i < frontier.length; i++) {
      const [, a] = frontier[i]
      const [, b] = frontier[bi]
      if (a.length < b.length || (a.length === b.length && a < b)) bi = i
    }
    const [loc, name] = frontier.splice(bi, 1)[0]
    if (done.has(loc) || best.get(loc) !== name) continue
    done.add(loc)
    const e = byLocation.get(loc)!
    for (const dep of edges(e)) {
      const d = byLocation.get(dep)
      if (d && !done.has(dep)) offer(dep, `${name}>${d.installName}`)
    }
    // a link's target shares the link's name
    if (e.source === 'link' && e.resolved && byLocation.has(e.resolved) && !done.has(e.resolved)) offer(e.resolved, name)
  }
  canonicalCache.set(plan, best)
  return best
}

function lavamoatVerdict (entry: PlanEntry, lists: AllowLists, plan?: Plan): Verdict {
  const policy = lists.lavamoat?.policy
  if (!policy) return undefined
  let canonical: string | undefined
  if (plan) canonical = canonicalNames(plan).get(entry.location)
  else if (entry.isRootDependency && entry.location === `node_modules/${entry.installName}`) canonical = entry.installName
  if (canonical === undefined) return undefined
  // registry entries must agree with their URL for an allow to count
  const trusted = entry.source !== 'registry' || registryIdentities(entry).trusted
  const value = policy[canonical]
  if (value === false) return { value: false, key: canonical }
  if (value === true && trusted) return { value: true, key: canonical }
  return undefined
}

/**
 * Whether `entry`'s install scripts may run. Pass the plan for LavaMoat's
 * `a>b` paths (without it, only top-level names are known).
 */
export function isAllowed (entry: PlanEntry, lists: AllowLists, plan?: Plan): AllowDecision {
  if (entry.bundled) {
    return { allowed: false, by: 'bundled dependency: its scripts never run (as npm); its parent must run them' }
  }
  if (entry.source === 'link') return { allowed: false, by: 'link: its target is built as its own entry' }
  if (entry.source === 'workspace') return { allowed: true, by: 'workspace (project code)' }

  const verdicts: { value: boolean, by: string }[] = []
  const n = npmVerdict(entry, lists)
  if (n) verdicts.push({ value: n.value, by: `${lists.npm!.source === '.npmrc' ? '.npmrc allow-scripts' : 'package.json allowScripts'} "${n.key}"` })
  const p = pnpmVerdict(entry, lists)
  if (p) verdicts.push({ value: p.value, by: `${p.source} "${p.key}"` })
  const l = lavamoatVerdict(entry, lists, plan)
  if (l) verdicts.push({ value: l.value, by: `package.json lavamoat.allowScripts "${l.key}"` })

  const deny = verdicts.find(v => !v.value)
  if (deny) return { allowed: false, denied: true, by: `denied by ${deny.by}` }
  const allow = verdicts.find(v => v.value)
  if (allow) return { allowed: true, by: allow.by }
  const inconsistent = entry.source === 'registry' && !registryIdentities(entry).trusted
  return {
    allowed: false,
    by: inconsistent
      ? `the lockfile's resolved URL (${entry.resolved}) does not name ${entry.name}@${entry.version}`
      : 'not in any allowlist',
  }
}

function isPlainObject (v: unknown): v is Record<string, any> {
  return !!v && typeof v === 'object' && !Array.isArray(v)
}
