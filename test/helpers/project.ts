// Temporary projects configured for a fixture registry, and lockfiles for them
// written by real npm, so safe-install is tested against the lockfiles npm
// actually produces rather than hand-written ones.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noProxyForLocalhost, overlay, withoutNpmConfig } from './env.js'

export interface ProjectOptions {
  registry: { url: string, caFile: string }
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  /** workspace folder (relative to the project) -> its package.json; listed in the root's `workspaces` */
  workspaces?: Record<string, Record<string, any>>
  /** appended to the userconfig, e.g. 'allow-git=none' or { 'allow-git': 'none' } */
  extraNpmrc?: string | Record<string, string | number | boolean>
  /** merged over the generated root package.json */
  packageJson?: Record<string, any>
  /** value of omit-lockfile-registry-resolved in the userconfig; default false */
  omitLockfileRegistryResolved?: boolean
}

export interface Project {
  /** the project folder (holds package.json) */
  dir: string
  /** npmrc to pass as --userconfig (or npm_config_userconfig) */
  userconfig: string
  /** an empty cache folder, also written as `cache=` in the userconfig */
  cache: string
  /** the temp folder holding all of the above, for cleanup */
  root: string
}

export function makeProject (opts: ProjectOptions): Project {
  const root = mkdtempSync(join(tmpdir(), 'si-project-'))
  const dir = join(root, 'project')
  const cache = join(root, 'cache')
  mkdirSync(dir)
  mkdirSync(cache)

  const pkg: Record<string, any> = { name: 'fixture-project', version: '1.0.0', private: true }
  if (opts.dependencies) pkg.dependencies = opts.dependencies
  if (opts.devDependencies) pkg.devDependencies = opts.devDependencies
  if (opts.optionalDependencies) pkg.optionalDependencies = opts.optionalDependencies
  if (opts.workspaces) {
    pkg.workspaces = Object.keys(opts.workspaces)
    for (const [folder, wsPkg] of Object.entries(opts.workspaces)) {
      mkdirSync(join(dir, folder), { recursive: true })
      writeFileSync(join(dir, folder, 'package.json'), JSON.stringify({ version: '1.0.0', ...wsPkg }, null, 2) + '\n')
    }
  }
  Object.assign(pkg, opts.packageJson)
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')

  const lines = [
    `registry=${opts.registry.url}`,
    `cafile=${opts.registry.caFile}`,
    `omit-lockfile-registry-resolved=${opts.omitLockfileRegistryResolved ?? false}`,
    'fund=false',
    'audit=false',
    'update-notifier=false',
    `cache=${cache}`,
  ]
  if (typeof opts.extraNpmrc === 'string') lines.push(opts.extraNpmrc)
  else if (opts.extraNpmrc) for (const [k, v] of Object.entries(opts.extraNpmrc)) lines.push(`${k}=${v}`)
  const userconfig = join(root, 'npmrc')
  writeFileSync(userconfig, lines.join('\n') + '\n')

  return { dir, userconfig, cache, root }
}

/** Environment for a child npm: no inherited npm_config_*, only the given userconfig. */
export function npmEnv (userconfig: string, extra?: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return overlay(noProxyForLocalhost(withoutNpmConfig(process.env)), {
    npm_config_userconfig: userconfig,
    // the machine's global npmrc (cafile, ...) must not leak in either
    npm_config_globalconfig: '/dev/null',
    ...extra,
  })
}

export interface NpmResult { code: number | null, stdout: string, stderr: string }

/** Runs the real npm with a clean environment. */
export function runNpm (args: string[], opts: { cwd: string, userconfig: string, env?: Record<string, string | undefined>, timeoutMs?: number }): Promise<NpmResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', [...args, '--userconfig', opts.userconfig], {
      cwd: opts.cwd,
      env: npmEnv(opts.userconfig, opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 120_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', d => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', d => { stderr += d })
    child.on('error', reject)
    child.on('close', code => resolve({ code, stdout, stderr }))
  })
}

/**
 * Writes package-lock.json with `npm install --package-lock-only --ignore-scripts`
 * and returns it parsed; throws with npm's output when npm fails.
 */
export async function lock (dir: string, userconfig: string, cache: string, extraArgs: string[] = []): Promise<Record<string, any>> {
  const r = await runNpm(['install', '--package-lock-only', '--ignore-scripts', '--cache', cache, ...extraArgs], { cwd: dir, userconfig })
  if (r.code !== 0) throw new Error(`npm install --package-lock-only failed (${r.code}):\n${r.stderr}\n${r.stdout}`)
  return JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'))
}
