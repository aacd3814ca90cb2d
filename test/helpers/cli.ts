// Runs the built safe-install CLI as a user would, in a clean environment, so
// a test's outcome never depends on the developer's shell (npm_config_*,
// NODE_TLS_REJECT_UNAUTHORIZED, proxies, extra CAs).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const CLI_BIN = fileURLToPath(new URL('../../bin/safe-install.js', import.meta.url))

export interface CliResult { code: number | null, stdout: string, stderr: string }

export interface CliOptions {
  cwd: string
  /** added to the clean env; `undefined` values remove a variable */
  env?: Record<string, string | undefined>
  /** written to stdin, then stdin is closed */
  input?: string
  timeoutMs?: number
}

/** PATH, HOME and TMPDIR only: everything else must be passed explicitly. */
export function cleanEnv (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const k of ['PATH', 'HOME', 'TMPDIR']) {
    if (process.env[k] !== undefined) env[k] = process.env[k]
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

export function runCli (args: string[], opts: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: opts.cwd,
      env: cleanEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 120_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', d => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', d => { stderr += d })
    child.on('error', reject)
    child.on('close', code => resolve({ code, stdout, stderr }))
    child.stdin.on('error', () => {}) // the CLI may exit before reading stdin
    child.stdin.end(opts.input ?? '')
  })
}
