import type { Plan, PlanEntry } from '../../../lib/types.js'
import { PUBLIC_REGISTRY } from '../../helpers/registry-host.js'

export const REGISTRY = PUBLIC_REGISTRY

export function entry (name: string, version: string, extra: Partial<PlanEntry> = {}): PlanEntry {
  const base = name.split('/').pop()
  return {
    location: `node_modules/${name}`,
    name,
    installName: name,
    version,
    resolved: `${REGISTRY}${name}/-/${base}-${version}.tgz`,
    integrity: `sha512-${name}`,
    source: 'registry',
    dev: false,
    optional: false,
    devOptional: false,
    peer: false,
    bundled: false,
    hasInstallScript: false,
    isRootDependency: true,
    dependencies: [],
    ...extra,
  }
}

export function plan (entries: PlanEntry[], root = '/project'): Plan {
  return {
    root,
    rootName: 'root',
    rootVersion: '1.0.0',
    lockfile: 'package-lock.json',
    entries: [...entries].sort((a, b) => a.location < b.location ? -1 : 1),
    rootDependencies: entries.filter(e => e.isRootDependency).map(e => e.location),
    workspaces: [],
  }
}
