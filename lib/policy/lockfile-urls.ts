// SCVS 4.1/4.2: a registry entry's tarball must come over https from the
// registry configured for its scope, at the path of the same name and
// version. Pure: also computes the URL the fetcher will use.
import type { PlanEntry, Violation } from '../types.js'

export interface RegistryConfig {
  /** default registry, trailing slash */
  registry: string
  /** '@scope' -> registry, trailing slash */
  scopedRegistries: Readonly<Record<string, string>>
  /** npm's replace-registry-host */
  replaceRegistryHost: string
  /** the registry npm uses when none is configured */
  defaultRegistry: string
}

export function registryFor (name: string, cfg: Pick<RegistryConfig, 'registry' | 'scopedRegistries'>): string {
  if (name.startsWith('@')) {
    const scope = name.slice(0, name.indexOf('/'))
    const scoped = cfg.scopedRegistries[scope]
    if (scoped) return scoped
  }
  return cfg.registry
}

/** `@scope/name` -> `name` (the tarball's base name). */
export function baseName (name: string): string {
  return name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name
}

/** Where npm would fetch a registry tarball from when the lockfile has no `resolved`. */
export function conventionalTarballUrl (name: string, version: string, registry: string): string {
  return `${registry}${name}/-/${baseName(name)}-${version}.tgz`
}

/**
 * npm rewrites `resolved` to the configured registry per replace-registry-host:
 * 'npmjs' (the default registry's host), 'always', 'never', a host name, or
 * a URL whose path prefix is swapped for the registry's. Same rules as
 * Arborist's reify, so we judge the URL npm would fetch.
 */
export function replaceHost (resolved: string, registry: string, cfg: RegistryConfig): string {
  const mode = cfg.replaceRegistryHost
  if (mode === 'never') return resolved
  let from: URL
  let to: URL
  try {
    from = new URL(resolved)
    to = new URL(registry)
  } catch {
    return resolved
  }
  const trim = (p: string) => p.replace(/\/$/, '')
  const hasPrefix = (p: string, prefix: string) => p === prefix || p.startsWith(prefix + '/')
  let matchHost: string | undefined
  let matchPath: string | undefined
  if (mode === 'npmjs' || !mode) matchHost = new URL(cfg.defaultRegistry).hostname
  else if (mode !== 'always') {
    try {
      const m = new URL(mode)
      matchHost = m.hostname
      matchPath = trim(m.pathname) || undefined
    } catch {
      matchHost = mode
    }
  }
  if (matchHost !== undefined && matchHost !== from.hostname) return resolved
  if (matchPath && !hasPrefix(from.pathname, matchPath)) return resolved
  const registryPath = trim(to.pathname)
  from.protocol = to.protocol
  from.hostname = to.hostname
  from.port = to.port
  if (matchPath) from.pathname = registryPath + from.pathname.slice(matchPath.length)
  else if (registryPath && !hasPrefix(from.pathname, registryPath)) from.pathname = registryPath + from.pathname
  return from.toString()
}

/** The path below the registry root a tarball of name@version must have. */
export function expectedTarballPaths (name: string, version: string): string[] {
  const file = `/-/${baseName(name)}-${version}.tgz`
  if (!name.startsWith('@')) return [`${name}${file}`]
  const [scope, bare] = name.split('/')
  return [`${scope}/${bare}${file}`, `${scope}%2f${bare}${file}`, `${scope}%2F${bare}${file}`]
}

/** Judges one URL (the lockfile's `resolved` or the packument's dist.tarball). */
export function checkTarballUrl (entry: Pick<PlanEntry, 'name' | 'version' | 'location'>, url: string, cfg: RegistryConfig, what = 'resolved'): { url: string, violation?: Violation } {
  const registry = registryFor(entry.name, cfg)
  const effective = replaceHost(url, registry, cfg)
  const pkg = `${entry.name}@${entry.version}`
  let u: URL
  try {
    u = new URL(effective)
  } catch {
    return { url: effective, violation: { code: 'ESIFOREIGNHOST', message: `${what} of ${pkg} is not a URL: ${url}`, package: pkg, path: entry.location, fix: 'regenerate the lockfile entry with `safe-install install`' } }
  }
  if (u.protocol !== 'https:') {
    return {
      url: effective,
      violation: {
        code: 'ESIHTTPURL',
        message: `${what} of ${pkg} uses ${u.protocol}// (${stripAuth(u)}); tarballs must come over https`,
        package: pkg,
        path: entry.location,
        fix: 'regenerate the lockfile against an https registry (`safe-install install`), or remove the resolved field',
      },
    }
  }
  const reg = new URL(registry)
  if (u.host !== reg.host || !u.pathname.startsWith(reg.pathname)) {
    return {
      url: effective,
      violation: {
        code: 'ESIFOREIGNHOST',
        message: `${what} of ${pkg} points at ${u.host}, not at the registry configured for it (${reg.host}${reg.pathname === '/' ? '' : reg.pathname})`,
        package: pkg,
        path: entry.location,
        fix: `remove the resolved field or regenerate the entry; if ${u.host} is your registry, configure it${entry.name.startsWith('@') ? ` (${entry.name.split('/')[0]}:registry)` : ''} in .npmrc`,
      },
    }
  }
  const rel = u.pathname.slice(reg.pathname.length)
  if (!expectedTarballPaths(entry.name, entry.version).includes(rel)) {
    return {
      url: effective,
      violation: {
        code: 'ESIURLPATH',
        message: `${what} of ${pkg} is ${u.pathname}, which is not the tarball of ${pkg}`,
        package: pkg,
        path: entry.location,
        fix: `expected ${reg.pathname}${expectedTarballPaths(entry.name, entry.version)[0]}; regenerate the lockfile entry`,
      },
    }
  }
  return { url: effective }
}

function stripAuth (u: URL): string {
  const c = new URL(u.toString())
  c.username = ''
  c.password = ''
  return c.toString()
}

/** Every registry entry's resolved URL, or the conventional one when the lockfile omits it. */
export function checkLockfileUrls (entries: readonly PlanEntry[], cfg: RegistryConfig): { violations: Violation[], urls: Map<string, string> } {
  const violations: Violation[] = []
  const urls = new Map<string, string>()
  for (const entry of entries) {
    if (entry.bundled || entry.source !== 'registry') continue
    if (!entry.resolved) {
      urls.set(entry.location, conventionalTarballUrl(entry.name, entry.version, registryFor(entry.name, cfg)))
      continue
    }
    const { url, violation } = checkTarballUrl(entry, entry.resolved, cfg)
    if (violation) violations.push(violation)
    urls.set(entry.location, url)
  }
  return { violations, urls }
}
