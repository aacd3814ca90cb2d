// Repository references (manifest `repository`, provenance source) reduced
// to a comparable `host/path` form. Pure.

const SHORTHAND_HOSTS: Record<string, string> = {
  github: 'github.com',
  gitlab: 'gitlab.com',
  bitbucket: 'bitbucket.org',
  gist: 'gist.github.com',
}

/** The `repository` of a manifest as a string (`{ url }` objects included). */
export function repositoryUrl (repository: unknown): string | undefined {
  if (typeof repository === 'string') return repository.trim() || undefined
  if (repository && typeof repository === 'object') {
    const url = (repository as { url?: unknown }).url
    if (typeof url === 'string') return url.trim() || undefined
  }
  return undefined
}

/**
 * Normalises a repository reference to `host/path`, lower-cased, so that
 * `git+https://github.com/A/b.git`, `git@github.com:a/b`, `ssh://git@github.com/a/b`,
 * `github:a/b`, `a/b` and `https://github.com/a/b/tree/main/pkg` all read `github.com/a/b`.
 * Returns undefined when it cannot be read as a repository.
 */
export function normalizeRepository (input: unknown): string | undefined {
  let s = repositoryUrl(input)
  if (!s) return undefined
  s = s.replace(/^git\+/i, '')

  // shorthands: github:owner/repo, gitlab:group/sub/repo, bitbucket:..., gist:id, owner/repo
  const short = /^([a-z]+):(?!\/\/)([^@:]+)$/i.exec(s)
  if (short && SHORTHAND_HOSTS[short[1].toLowerCase()]) {
    s = `https://${SHORTHAND_HOSTS[short[1].toLowerCase()]}/${short[2]}`
  } else if (/^[\w.-]+\/[\w.-]+(?:#.*)?$/.test(s) && !s.includes(':')) {
    s = `https://github.com/${s}`
  } else {
    // scp-like: [user@]host:path (no scheme)
    const scp = /^(?:[^@/:]+@)?([^@/:]+):(?!\/\/)(.+)$/.exec(s)
    if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = `ssh://${scp[1]}/${scp[2]}`
  }

  let url: URL
  try {
    url = new URL(s)
  } catch {
    return undefined
  }
  const host = url.hostname.toLowerCase().replace(/^www\./, '')
  if (!host) return undefined
  let path: string
  try {
    path = decodeURIComponent(url.pathname)
  } catch {
    path = url.pathname
  }
  path = path.replace(/\/+$/, '').replace(/\.git$/i, '').replace(/^\/+/, '')
  let segments = path.split('/').filter(Boolean)
  if (host === 'github.com' || host === 'bitbucket.org') {
    // owner/repo; anything after is a view of it (tree/main/packages/x)
    segments = segments.slice(0, 2)
  } else {
    // GitLab and others: `/-/` starts a view (e.g. /-/tree/main)
    const dash = segments.indexOf('-')
    if (dash >= 0) segments = segments.slice(0, dash)
  }
  const last = segments.length - 1
  if (last >= 0) segments[last] = segments[last].replace(/\.git$/i, '')
  if (!segments.length) return undefined
  return `${host}/${segments.join('/')}`.toLowerCase()
}
