import type { CheckContext } from '../../../lib/evidence/check.js'
import type { Options, Policy } from '../../../lib/options.js'
import type { Plan, PlanEntry, RunNote, VerifiedPackage } from '../../../lib/types.js'
import { PUBLIC_REGISTRY } from '../../helpers/registry-host.js'
import { optionsWith, planEntry, policyWith, tarballUrl } from '../../helpers/model.js'

export const REGISTRY = PUBLIC_REGISTRY

export function entry (name: string, version: string, extra: Partial<PlanEntry> = {}): PlanEntry {
  return planEntry({ name, version, resolved: tarballUrl(REGISTRY, name, version), integrity: `sha512-${name}-${version}`, ...extra })
}

export function verified (e: PlanEntry, registry = REGISTRY): VerifiedPackage {
  return {
    entry: e,
    integrity: e.integrity ?? '',
    from: 'network',
    tarballUrl: e.resolved ?? '',
    registry,
    manifest: { name: e.name, version: e.version },
    files: [],
    readFile: () => undefined,
  }
}

export function policy (p: Partial<Policy> = {}): Policy {
  return policyWith({ registryAdvisories: true, ...p })
}

export interface FakeCtx extends CheckContext {
  notes: RunNote[]
  posts: { url: string, body: any }[]
  packuments: string[]
}

export function fakeCtx (opts: {
  policy?: Partial<Policy>
  entries?: PlanEntry[]
  options?: Partial<Options>
  post?: (url: string, body: any) => Promise<any>
  packument?: (name: string, registry: string) => Promise<any>
} = {}): FakeCtx {
  const notes: RunNote[] = []
  const posts: { url: string, body: any }[] = []
  const packuments: string[] = []
  const plan: Plan = {
    root: '/project',
    rootName: 'root',
    rootVersion: '1.0.0',
    lockfile: 'package-lock.json',
    entries: opts.entries ?? [],
    rootDependencies: (opts.entries ?? []).filter(e => e.isRootDependency).map(e => e.location),
    workspaces: [],
  }
  const options = optionsWith(policy(opts.policy), { cache: '/cache', registry: REGISTRY, ...opts.options }) as Options
  return {
    options,
    plan,
    notes,
    posts,
    packuments,
    fetchJson: async () => { throw new Error('no network in tests') },
    postJson: async (url, body) => {
      posts.push({ url, body })
      if (!opts.post) throw new Error('no network in tests')
      return opts.post(url, body)
    },
    fullPackument: async (name, registry) => {
      packuments.push(name)
      if (!opts.packument) throw new Error('no network in tests')
      return opts.packument(name, registry)
    },
    facts: { get: async () => undefined, set: async () => {} },
    note: n => { notes.push(n) },
  }
}
