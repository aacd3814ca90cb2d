import type { Plan, PlanEntry } from '../../../lib/types.js'
import { PUBLIC_REGISTRY } from '../../helpers/registry-host.js'
import { planEntry, tarballUrl } from '../../helpers/model.js'

export const REGISTRY = PUBLIC_REGISTRY

export function entry (name: string, version: string, extra: Partial<PlanEntry> = {}): PlanEntry {
  return planEntry({ name, version, resolved: tarballUrl(REGISTRY, name, version), integrity: `sha512-${name}`, ...extra })
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
