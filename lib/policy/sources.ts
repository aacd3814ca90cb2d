// SCVS 4.1: components come from a package registry. Other sources follow
// npm's allow-git / allow-remote / allow-file / allow-directory (all|none|root).
import type { Policy } from '../options.js'
import type { AllowSetting, PlanEntry, Violation } from '../types.js'

const RULES = {
  git: { code: 'ESIGIT', setting: 'allowGit', npmKey: 'allow-git', what: 'a git dependency' },
  remote: { code: 'ESIREMOTE', setting: 'allowRemote', npmKey: 'allow-remote', what: 'a remote tarball URL' },
  file: { code: 'ESIFILE', setting: 'allowFile', npmKey: 'allow-file', what: 'a local file: tarball' },
  directory: { code: 'ESIDIRECTORY', setting: 'allowDirectory', npmKey: 'allow-directory', what: 'a linked directory' },
} as const

export function allows (setting: AllowSetting, entry: PlanEntry): boolean {
  return setting === 'all' || (setting === 'root' && entry.isRootDependency)
}

export function checkSources (entries: readonly PlanEntry[], policy: Policy): Violation[] {
  const out: Violation[] = []
  for (const entry of entries) {
    if (entry.bundled) continue // shipped inside its parent's tarball
    const rule = entry.source in RULES ? RULES[entry.source as keyof typeof RULES] : undefined
    if (!rule) continue
    const setting = policy[rule.setting]
    if (allows(setting, entry)) {
      // a git checkout has no integrity to check its bytes against, and
      // preparing it would run its scripts: allowed or not, we cannot do it safely
      if (entry.source === 'git') {
        out.push({
          code: rule.code,
          message: `${entry.name} is a git dependency (${entry.resolved ?? 'no resolved URL'}); allow-git permits it, but a git source has no integrity to verify and its prepare script would have to run`,
          package: `${entry.name}@${entry.version}`,
          path: entry.location,
          fix: 'publish it to your registry (or pack it and use a file: tarball with an integrity) and depend on that',
        })
      }
      continue
    }
    out.push({
      code: rule.code,
      message: `${entry.name} is ${rule.what} (${entry.resolved ?? 'no resolved URL'}); ${rule.npmKey} is "${setting}"`,
      package: `${entry.name}@${entry.version}`,
      path: entry.location,
      fix: setting === 'root' && !entry.isRootDependency
        ? `only direct dependencies may use this source under ${rule.npmKey}=root; replace it with a registry version`
        : `replace it with a registry version, or allow it with ${rule.npmKey}=root|all (npm config) or safeInstall.${rule.setting}`,
    })
  }
  return out
}
