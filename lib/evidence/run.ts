// Per-run state shared by the evidence checks: registry keys, the Sigstore
// trusted root, registry version documents and in-flight results, each
// loaded at most once per run. Created by evidenceChecks(); tests inject
// their own TUF source and clock.
import type { TrustedRoot } from '@sigstore/protobuf-specs'
import type { CheckContext } from './check.js'
import type { VerifiedPackage } from '../types.js'
import { reducePackument } from '../fetch/version-facts.js'
import { RegistryKeyStore } from './keys.js'
import { createSigstoreTargets, sideThreadTargets, TRUSTED_ROOT_TARGET, tufOptions, type SigstoreTargets } from './tuf.js'
import { CORGI_ACCEPT, errorMessage, escapedName, registryKey, withSlash } from './util.js'

export interface EvidenceServices {
  /** Sigstore TUF targets; default: the public-good repository, cached under `<cache>/_safe-install/tuf` */
  readonly tuf?: SigstoreTargets
  /** bound on each TUF step (default 5 s) */
  readonly tufTimeoutMs?: number
  readonly now?: () => Date
}

/** where the trusted root came from: the public-good TUF repository, the copy in @sigstore/tuf, or `policy.trustedRoot` */
export type TrustedRootSource = 'tuf' | 'embedded' | 'file'

export interface TrustedRootResult {
  readonly root?: TrustedRoot
  readonly source?: TrustedRootSource
  readonly reason?: string
}

export interface VersionDocResult {
  /** the registry the document came from (trailing slash) */
  readonly registry: string
  /** the packument's `versions[version]`, undefined when the registry lacks it or failed */
  readonly doc?: Readonly<Record<string, any>>
  /** why there is no document */
  readonly error?: string
}

export class EvidenceRun {
  readonly now: () => Date
  readonly #services: EvidenceServices
  #tuf?: SigstoreTargets
  #keys?: RegistryKeyStore
  #root?: Promise<TrustedRootResult>
  readonly #memo = new Map<string, Promise<unknown>>()

  constructor (services: EvidenceServices = {}) {
    this.#services = services
    this.now = services.now ?? (() => new Date())
  }

  /** the TUF source, created on first use from the run's options */
  tuf (ctx: Pick<CheckContext, 'options' | 'side'>): SigstoreTargets {
    if (!this.#tuf) {
      const opts = tufOptions(ctx.options, this.#services.tufTimeoutMs)
      this.#tuf = this.#services.tuf ?? (ctx.side ? sideThreadTargets(ctx.side, opts) : createSigstoreTargets(opts))
    }
    return this.#tuf
  }

  keys (ctx: CheckContext): RegistryKeyStore {
    this.#keys ??= new RegistryKeyStore({ tuf: this.tuf(ctx) })
    return this.#keys
  }

  /** memoizes an async computation for the run */
  memo<T> (kind: string, key: string, fn: () => Promise<T>): Promise<T> {
    const id = `${kind}\0${key}`
    let found = this.#memo.get(id) as Promise<T> | undefined
    if (!found) {
      found = fn()
      this.#memo.set(id, found)
    }
    return found
  }

  /**
   * Where a package's signing evidence is read from: `policy.signaturesRegistry`
   * for packages of the default registry when it is set, else the package's registry.
   */
  evidenceRegistry (pkg: VerifiedPackage, ctx: Pick<CheckContext, 'options'>): string {
    const alt = ctx.options.policy.signaturesRegistry
    if (alt && registryKey(pkg.registry) === registryKey(ctx.options.registry)) return withSlash(alt)
    return withSlash(pkg.registry)
  }

  /**
   * The signing keys of the registries `pkgs` take evidence from, as they
   * stand now: a fingerprint that changes when a registry adds, revokes or
   * starts or stops serving keys.
   */
  async keysFingerprint (pkgs: readonly VerifiedPackage[], ctx: CheckContext): Promise<string> {
    const registries = new Set<string>()
    for (const p of pkgs) if (p.entry.source === 'registry') registries.add(this.evidenceRegistry(p, ctx))
    const out: unknown[] = []
    for (const registry of [...registries].sort()) {
      const set = await this.keys(ctx).get(registry, ctx)
      out.push([registryKey(registry), set.source ?? null, Boolean(set.servedByRegistry),
        set.keys.map(k => [k.keyid, k.usage ?? null, k.expires ?? null]).sort()])
    }
    return JSON.stringify(out)
  }

  /** the version document (with `dist.signatures`/`dist.attestations`) from the evidence registry */
  versionDoc (pkg: VerifiedPackage, ctx: CheckContext): Promise<VersionDocResult> {
    const registry = this.evidenceRegistry(pkg, ctx)
    const { name, version } = pkg.entry
    if (pkg.registryManifest && registryKey(registry) === registryKey(pkg.registry)) {
      return Promise.resolve({ registry, doc: pkg.registryManifest })
    }
    return this.memo('version-doc', `${registryKey(registry)} ${name}@${version}`, async () => {
      const url = `${registry}${escapedName(name)}`
      try {
        const packument = await this.memo('packument', `${registryKey(registry)} ${name}`,
          () => ctx.fetchJson(url, { accept: CORGI_ACCEPT }).then(reducePackument))
        if (!packument) return { registry, error: `${url} answered 404` }
        const doc = packument.versions?.[version]
        if (!doc) return { registry, error: `${registry} has no ${name}@${version}` }
        return { registry, doc }
      } catch (err) {
        return { registry, error: `${url} could not be fetched (${errorMessage(err)})` }
      }
    })
  }

  /**
   * The Sigstore trusted root: the file of `policy.trustedRoot` when set (one
   * note saying so), else the public-good root from TUF or the embedded copy
   * (one note when embedded).
   */
  trustedRoot (ctx: CheckContext): Promise<TrustedRootResult> {
    this.#root ??= (async () => {
      const file = ctx.options.policy.trustedRoot
      if (file) {
        let root: TrustedRoot
        try {
          // read and checked when the options were built; this is the same parsed root
          const { loadTrustedRootFile } = await import('./trusted-root.js')
          root = loadTrustedRootFile(file)
        } catch (err) {
          return { reason: errorMessage(err) }
        }
        ctx.note({
          check: 'provenance',
          level: 'info',
          message: `Provenance is verified against the Sigstore trusted root in ${file} (trustedRoot), not the public-good one.`,
        })
        return { root, source: 'file' as const }
      }
      const target = await this.tuf(ctx).target(TRUSTED_ROOT_TARGET)
      if (!target) return { reason: 'no Sigstore trusted root is available' }
      let root: TrustedRoot
      try {
        // the Sigstore libraries load with the first bundle to verify
        const { TrustedRoot } = await import('@sigstore/protobuf-specs')
        root = TrustedRoot.fromJSON(JSON.parse(target.text))
      } catch (err) {
        return { reason: `the Sigstore trusted root could not be parsed (${errorMessage(err)})` }
      }
      if (target.source === 'embedded') {
        ctx.note({
          check: 'provenance',
          level: 'warning',
          message: 'Provenance was verified against the offline copy of the Sigstore trusted root shipped ' +
            `inside @sigstore/tuf, not a fresh one: ${target.reason ?? 'the TUF repository was unreachable'}. ` +
            'Certificate authorities or transparency logs added or revoked since that copy was made are not known to this run.',
        })
      }
      return { root, source: target.source }
    })()
    return this.#root
  }
}
