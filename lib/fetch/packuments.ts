// Packument access, once per name per run: the abbreviated document for
// dist (integrity, tarball, signatures, attestations), the full one only when
// a check needs `time` or `_npmUser`. The abbreviated one goes through npm's
// HTTP cache; both are kept reduced to what the checks read (version-facts.ts).
import type { RegistryClient } from './client.js'
import { CORGI } from './client.js'
import { reducePackument } from './version-facts.js'

export function escapeName (name: string): string {
  return name.startsWith('@') ? '@' + encodeURIComponent(name.slice(1)) : encodeURIComponent(name)
}

export class Packuments {
  private readonly corgi = new Map<string, Promise<any | undefined>>()
  private readonly full = new Map<string, Promise<any | undefined>>()
  /**
   * @param fullNeeded a check will read the full packument anyway (cooldown,
   * trust): then the abbreviated one is not fetched at all, one request a name
   * @param wanted the versions of a name this run installs: the only ones
   * whose whole version document is read (reducePackument)
   */
  constructor (private readonly client: RegistryClient, private readonly fullNeeded = false,
    private readonly wanted?: (name: string) => ReadonlySet<string> | undefined) {}

  #reduce (name: string): (doc: any) => any {
    return doc => reducePackument(doc, this.wanted?.(name))
  }

  abbreviated (name: string, registry: string): Promise<any | undefined> {
    if (this.fullNeeded) return this.complete(name, registry)
    const key = registry + name
    let p = this.corgi.get(key)
    if (!p) {
      p = this.client.json(registry + escapeName(name), { accept: CORGI, spec: name }).then(this.#reduce(name))
      this.corgi.set(key, p)
    }
    return p
  }

  complete (name: string, registry: string): Promise<any | undefined> {
    const key = registry + name
    let p = this.full.get(key)
    if (!p) {
      // not into npm's HTTP cache: what the checks read of it is kept as facts per
      // version (version-facts.ts), and writing every full packument (tens of MB
      // for some names) cost hashing and disk writes on every cold run
      p = this.client.json(registry + escapeName(name), { accept: 'application/json', spec: name, cache: false }).then(this.#reduce(name))
      this.full.set(key, p)
    }
    return p
  }
}
