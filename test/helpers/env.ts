// Child-process environments that do not inherit this machine's npm setup.
//
// When tests run under `npm test`, npm exports every config value as
// npm_config_*; a child npm or safe-install would silently pick them up (the
// machine's registry, cafile, omit-lockfile-registry-resolved...), so they are
// always removed and tests state their config explicitly.
export function withoutNpmConfig (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(env)) {
    if (!/^npm_config_/i.test(k) && v !== undefined) out[k] = v
  }
  return out
}

/** Applies overrides; an override of `undefined` removes the variable. */
export function overlay (base: NodeJS.ProcessEnv, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const out = { ...base }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete out[k]
    else out[k] = v
  }
  return out
}

/** Hosts of the fixture registry must never go through a proxy, if one is configured. */
export function noProxyForLocalhost (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const local = '127.0.0.1,localhost'
  const prev = env.NO_PROXY ?? env.no_proxy
  const value = prev ? `${prev},${local}` : local
  return { ...env, NO_PROXY: value, no_proxy: value }
}
