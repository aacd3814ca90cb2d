// What a registry says about one published version never changes once
// published (npm forbids republishing a version): its dist fields, its
// publish time, and the versions published before it. So a warm install
// needs no per-package metadata request. Pure reductions + the cache keys.

/** The fields of a version document the checks read (dist, _npmUser, repository). */
export function reduceVersionDoc (doc: Record<string, any>): Record<string, any> {
  const dist = doc.dist ?? {}
  const out: Record<string, any> = {
    name: doc.name,
    version: doc.version,
    dist: {
      integrity: dist.integrity,
      shasum: dist.shasum,
      tarball: dist.tarball,
      ...(dist.signatures ? { signatures: dist.signatures } : {}),
      ...(dist.attestations ? { attestations: dist.attestations } : {}),
    },
  }
  if (doc._npmUser) out._npmUser = doc._npmUser
  if (doc.repository) out.repository = doc.repository
  if (doc.hasInstallScript) out.hasInstallScript = true
  return out
}

/**
 * A packument as the run keeps it: every version reduced to what the checks
 * read, plus `time`. A run holds one per package name; raw, the large ones
 * (tens of MB parsed) made peak memory grow with the project. Given the
 * versions the run installs (`wanted`), the others keep only what the trust
 * ranking reads of them (reduceTrustDoc): a few bytes instead of a few
 * hundred, over every version of every package.
 */
export function reducePackument (packument: any, wanted?: ReadonlySet<string>): any {
  if (!packument || typeof packument !== 'object') return packument
  const versions: Record<string, any> = {}
  for (const [v, doc] of Object.entries<any>(packument.versions ?? {})) {
    if (doc && typeof doc === 'object') versions[v] = !wanted || wanted.has(v) ? reduceVersionDoc(doc) : reduceTrustDoc(doc)
  }
  const out: Record<string, any> = { name: packument.name, versions }
  if (packument.time && typeof packument.time === 'object') out.time = packument.time
  return out
}

/**
 * What the trust ranking reads of a version document: whether it has
 * attestations, registry signatures (keyids only) and a trusted publisher.
 * A large packument shrinks to a few bytes per version.
 */
export function reduceTrustDoc (doc: Record<string, any>): Record<string, any> {
  const dist = doc?.dist ?? {}
  const out: Record<string, any> = { dist: {} }
  if (dist.attestations && typeof dist.attestations === 'object') out.dist.attestations = dist.attestations
  if (Array.isArray(dist.signatures) && dist.signatures.length) {
    out.dist.signatures = dist.signatures.map((s: any) => ({ keyid: s?.keyid }))
  }
  if (doc?._npmUser?.trustedPublisher) out._npmUser = { trustedPublisher: doc._npmUser.trustedPublisher }
  return out
}

/**
 * The packument as it stood when `version` was published: that version and
 * every earlier one (by `time`), reduced to what the trust and release-age
 * checks read. Undefined when the packument has no time for the version
 * (nothing immutable to keep).
 */
export function packumentUpTo (packument: Record<string, any>, version: string): Record<string, any> | undefined {
  const time: Record<string, string> = packument?.time ?? {}
  const at = Date.parse(time[version] ?? '')
  if (!packument?.versions?.[version] || !Number.isFinite(at)) return undefined
  const versions: Record<string, any> = {}
  const times: Record<string, string> = {}
  for (const [v, doc] of Object.entries<any>(packument.versions)) {
    const t = Date.parse(time[v] ?? '')
    if (!Number.isFinite(t) || t > at) continue
    versions[v] = reduceTrustDoc(doc)
    times[v] = time[v]
  }
  return { name: packument.name, versions, time: times }
}

export const versionDocKey = (registry: string, name: string, version: string, integrity: string) =>
  `${registry} ${name}@${version} ${integrity}`
/** facts kind of the packumentUpTo views */
export const UP_TO_FACT = 'packument-upto-v2'
export const upToKey = (registry: string, name: string, version: string) => `${registry} ${name}@${version}`
