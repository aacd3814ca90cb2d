// Shared set-up for integration tests: a registry with packages, a project
// locked by real npm, and the CLI run with the project's own config.
import fs from 'node:fs'
import path from 'node:path'
import { startRegistry, type FixtureRegistry, type PublishSpec } from '../fixtures/registry/index.js'
import { runCli, type CliResult } from '../helpers/cli.js'
import { lock, makeProject, type Project, type ProjectOptions } from '../helpers/project.js'

export interface Setup {
  registry: FixtureRegistry
  project: Project
  /** runs safe-install in the project with its userconfig */
  si: (args: string[], env?: Record<string, string | undefined>) => Promise<CliResult>
  /** same, with --json, parsed */
  siJson: (args: string[], env?: Record<string, string | undefined>) => Promise<{ code: number | null, report: any, stderr: string, stdout: string }>
  lockfile: () => any
  writeLockfile: (lock: any) => void
  nodeModules: string
  cleanup: () => Promise<void>
}

export async function setup (packages: PublishSpec[], project: Omit<ProjectOptions, 'registry'>, opts: { lock?: boolean } = {}): Promise<Setup> {
  const registry = await startRegistry()
  for (const p of packages) await registry.publish(p)
  return setupOn(registry, project, opts)
}

/**
 * A project (locked by real npm unless `lock: false`) against an already
 * populated registry. `env` is added to every CLI run; `others` are more
 * registries stopped at cleanup.
 */
export async function setupOn (registry: FixtureRegistry, project: Omit<ProjectOptions, 'registry'>, opts: { lock?: boolean, env?: Record<string, string>, others?: FixtureRegistry[] } = {}): Promise<Setup> {
  const proj = makeProject({ ...project, registry: { url: registry.url, caFile: registry.caFile } })
  if (opts.lock !== false) await lock(proj.dir, proj.userconfig, proj.cache)
  const si = (args: string[], env?: Record<string, string | undefined>) =>
    runCli([...args, '--userconfig', proj.userconfig], { cwd: proj.dir, env: { ...opts.env, ...env } })
  const lockPath = path.join(proj.dir, 'package-lock.json')
  return {
    registry,
    project: proj,
    si,
    siJson: async (args, env) => {
      const r = await si([...args, '--json'], env)
      let report: any
      try { report = JSON.parse(r.stdout) } catch { throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`) }
      return { code: r.code, report, stderr: r.stderr, stdout: r.stdout }
    },
    lockfile: () => JSON.parse(fs.readFileSync(lockPath, 'utf8')),
    writeLockfile: l => fs.writeFileSync(lockPath, JSON.stringify(l, null, 2) + '\n'),
    nodeModules: path.join(proj.dir, 'node_modules'),
    cleanup: async () => {
      await registry.stop()
      for (const o of opts.others ?? []) await o.stop()
      fs.rmSync(proj.root, { recursive: true, force: true })
    },
  }
}

export function codes (report: any): string[] {
  return (report.violations ?? []).map((v: any) => v.code)
}
