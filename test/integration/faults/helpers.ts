// Shared setup for the fault-injection integration tests: a fixture registry
// and a project per test, the real CLI as a child process, and checks that a
// tree on disk is exactly what the lockfile describes.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { startRegistry, type FixtureRegistry, type PublishSpec } from '../../fixtures/registry/index.js'
import { CLI_BIN, cleanEnv, runCli, type CliResult } from '../../helpers/cli.js'
import { lock, makeProject, type Project, type ProjectOptions } from '../../helpers/project.js'

/** npm's retry settings, shrunk so retried faults cost milliseconds. */
export const FAST_RETRIES = {
  'fetch-retries': 2,
  'fetch-retry-mintimeout': 10,
  'fetch-retry-maxtimeout': 50,
}

export interface Fixture {
  reg: FixtureRegistry
  proj: Project
  /** host:port of the registry, as error messages should name it */
  host: string
  /** lockfile written by real npm for the current package.json */
  relock: () => Promise<Record<string, any>>
  setDependencies: (deps: Record<string, string>) => void
  cleanup: () => Promise<void>
}

/** The contents a published package's index.js gets, so installed bytes can be checked. */
export function indexJs (name: string, version: string): string {
  return `module.exports = ${JSON.stringify(`${name}@${version}`)}\n`
}

export function pkg (name: string, version: string, dependencies?: Record<string, string>, extraFiles: Record<string, string> = {}): PublishSpec {
  return {
    name,
    version,
    manifest: { ...(dependencies ? { dependencies } : {}), license: 'MIT' },
    files: { 'index.js': indexJs(name, version), ...extraFiles },
  }
}

export async function setup (
  packages: PublishSpec[],
  dependencies: Record<string, string>,
  opts: Partial<ProjectOptions> = {},
): Promise<Fixture> {
  const reg = await startRegistry()
  for (const p of packages) await reg.publish(p)
  const proj = makeProject({ registry: reg, dependencies, ...opts, extraNpmrc: opts.extraNpmrc ?? FAST_RETRIES })
  return {
    reg,
    proj,
    host: new URL(reg.url).host,
    relock: () => lock(proj.dir, proj.userconfig, proj.cache),
    setDependencies: (deps) => {
      const file = join(proj.dir, 'package.json')
      const json = JSON.parse(readFileSync(file, 'utf8'))
      json.dependencies = deps
      writeFileSync(file, JSON.stringify(json, null, 2) + '\n')
    },
    cleanup: async () => {
      await reg.stop()
      rmSync(proj.root, { recursive: true, force: true })
    },
  }
}

export function cliArgs (command: string, proj: Project, args: string[] = []): string[] {
  return [command, '--userconfig', proj.userconfig, ...args]
}

export function run (command: string, proj: Project, args: string[] = [], timeoutMs = 60_000): Promise<CliResult> {
  return runCli(cliArgs(command, proj, args), { cwd: proj.dir, timeoutMs })
}

export interface JsonRun extends CliResult { json: any }

/** Runs with --json and parses stdout (fails the test with the output when it is not JSON). */
export async function runJson (command: string, proj: Project, args: string[] = [], timeoutMs = 60_000): Promise<JsonRun> {
  const r = await run(command, proj, ['--json', ...args], timeoutMs)
  let json: any
  try {
    json = JSON.parse(r.stdout)
  } catch {
    throw new Error(`safe-install ${command} --json printed no JSON (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  }
  return { ...r, json }
}

/** Spawns the CLI and returns the child, for tests that kill it or race it. */
export function spawnCli (command: string, proj: Project, args: string[] = []): ChildProcess & { output: () => string, exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI_BIN, ...cliArgs(command, proj, args)], {
    cwd: proj.dir,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', d => { out += d })
  child.stderr!.setEncoding('utf8').on('data', d => { out += d })
  const exited = new Promise<number | null>(resolve => child.on('close', code => resolve(code)))
  return Object.assign(child, { output: () => out, exited })
}

export function describeRun (r: CliResult): string {
  return `exit ${r.code}\nstdout: ${r.stdout.slice(0, 4000)}\nstderr: ${r.stderr.slice(0, 4000)}`
}

/**
 * Every package the lockfile lists is on disk with the locked version and the
 * published index.js, and nothing is left over from an interrupted swap.
 */
export function expectCompleteTree (dir: string, lockfile: Record<string, any>): void {
  const problems: string[] = []
  const entries = Object.entries(lockfile.packages as Record<string, any>).filter(([k, v]) => k !== '' && !v.link)
  expect(entries.length).toBeGreaterThan(0)
  for (const [location, entry] of entries) {
    const manifestFile = join(dir, location, 'package.json')
    if (!existsSync(manifestFile)) { problems.push(`missing ${location}/package.json`); continue }
    let manifest: any
    try {
      manifest = JSON.parse(readFileSync(manifestFile, 'utf8'))
    } catch (err) {
      problems.push(`unreadable ${location}/package.json: ${(err as Error).message}`)
      continue
    }
    if (manifest.version !== entry.version) problems.push(`${location}: version ${manifest.version}, locked ${entry.version}`)
    const name = location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length)
    const index = join(dir, location, 'index.js')
    if (!existsSync(index) || readFileSync(index, 'utf8') !== indexJs(name, entry.version)) problems.push(`${location}/index.js missing or not the published bytes`)
  }
  for (const leftover of ['.safe-install-previous-node_modules', '.safe-install-swap.json', '.safe-install.lock']) {
    if (existsSync(join(dir, leftover))) problems.push(`leftover ${leftover}`)
  }
  expect(problems).toEqual([])
}

/** GET requests the registry saw for exactly this path. */
export function hits (reg: FixtureRegistry, path: string): number {
  return reg.requests.filter(r => r.method === 'GET' && r.path === path).length
}

export function tarballPath (name: string, version: string): string {
  return `/${name}/-/${name.slice(name.lastIndexOf('/') + 1)}-${version}.tgz`
}

export function exactPath (path: string): RegExp {
  return new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
}

/** A pid that belonged to a process that has exited. */
export async function deadPid (): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  const pid = child.pid!
  await new Promise(resolve => child.on('close', resolve))
  return pid
}

/** No line of a Node stack trace. */
export function expectNoStack (text: string): void {
  expect(text.split('\n').filter(l => /^\s+at /.test(l))).toEqual([])
}
