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

export function registryFor (name: string, cfg: RegistryConfig): string {
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
 * npm rewrites `resolved` hosts to the configured registry per
 * replace-registry-host: 'npmjs' (the default registry's host only),
 * 'always', 'never', or a host name.
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
  const defaultHost = new URL(cfg.defaultRegistry).host
  const replace = mode === 'always' ||
    (mode === 'npmjs' && from.host === defaultHost) ||
    (mode !== 'npmjs' && mode !== 'always' && (from.host === mode || safeHost(mode) === from.host))
  if (!replace) return resolved
  from.protocol = to.protocol
  from.host = to.host
  // the registry may live under a path (e.g. a proxy's /npm/); keep the package path
  const defaultPath = new URL(cfg.defaultRegistry).pathname
  if (from.pathname.startsWith(defaultPath) && to.pathname !== defaultPath) {
    from.pathname = to.pathname + from.pathname.slice(defaultPath.length)
  }
  return from.toString()
}

function safeHost (s: string): string | undefined {
  try { return new URL(s).host } catch { return undefined }
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
