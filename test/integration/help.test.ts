// The help text: every command, and each command's flags, exit 0; a usage
// error names --help and exits 2 (yargs renders help only when asked).
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'

describe('--help', () => {
  it('lists the commands, and each command lists its flags', async () => {
    const top = await runCli(['--help'], { cwd: process.cwd() })
    expect(top.code).toBe(0)
    for (const c of ['ci', 'install', 'verify', 'rebuild', 'diff']) expect(top.stdout).toMatch(new RegExp(`safe-install ${c}\\b`))
    expect(top.stdout).toMatch(/Exit codes: 0 ok/)

    const ci = await runCli(['ci', '--help'], { cwd: process.cwd() })
    expect(ci.code).toBe(0)
    for (const f of ['--signatures', '--provenance', '--trust-policy', '--audit-level', '--trusted-root', '--record', '--cache', '--timing']) {
      expect(ci.stdout, f).toContain(f)
    }
  })

  it('a usage error names --help and exits 2', async () => {
    const r = await runCli(['frobnicate'], { cwd: process.cwd() })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/error ESIUSAGE: Unknown command: frobnicate\nRun `safe-install --help` for usage\./)
  })
})
