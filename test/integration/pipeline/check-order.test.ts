// The checks that read file contents run first; the package's bytes are let
// go before the checks that wait on the network, and what each check found
// is kept in the checks' own order.
import { afterEach, describe, expect, it } from 'vitest'
import { loadOptions } from '../../../lib/config/load.js'
import type { EvidenceCheck } from '../../../lib/evidence/check.js'
import { runPipeline } from '../../../lib/pipeline.js'
import { noProxyForLocalhost, withoutNpmConfig } from '../../helpers/env.js'
import { setup, type Setup } from '../helpers.js'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

describe('runPipeline: checks that read contents first, then the bytes are let go', () => {
  it('a network check listed first still runs after the contents check, and sees no contents; violations keep the listed order', async () => {
    s = await setup([
      { name: 'a', version: '1.0.0', files: { 'index.js': 'module.exports = "a"\n' } },
      { name: 'b', version: '1.0.0', files: { 'index.js': 'module.exports = "b"\n' } },
    ], { dependencies: { a: '1.0.0', b: '1.0.0' } })
    const options = await loadOptions({
      argv: ['verify', '--userconfig', s.project.userconfig],
      cwd: s.project.dir,
      env: { ...noProxyForLocalhost(withoutNpmConfig(process.env)), npm_config_globalconfig: '/dev/null' },
      flags: { command: 'verify', policy: { minReleaseAgeDays: 0 } },
    })
    const ran: string[] = []
    const network: EvidenceCheck = {
      name: 'network',
      async check (pkg) {
        ran.push(`network ${pkg.entry.name} contents:${pkg.readFile('index.js') !== undefined}`)
        return { violations: [{ code: 'ESITEST', severity: 'warning', message: `network ${pkg.entry.name}`, package: pkg.entry.name }] }
      },
    }
    const contents: EvidenceCheck = {
      name: 'contents',
      readsContents: true,
      async check (pkg) {
        ran.push(`contents ${pkg.entry.name} contents:${pkg.readFile('index.js')?.toString().trim()}`)
        return { violations: [{ code: 'ESITEST', severity: 'warning', message: `contents ${pkg.entry.name}`, package: pkg.entry.name }] }
      },
    }
    const result = await runPipeline(options, {}, { checks: [network, contents] })
    for (const name of ['a', 'b']) {
      const mine = ran.filter(r => r.includes(` ${name} `))
      expect(mine).toEqual([`contents ${name} contents:module.exports = "${name}"`, `network ${name} contents:false`])
    }
    for (const name of ['a', 'b']) {
      expect(result.warnings.filter(w => w.package === name).map(w => w.message)).toEqual([`network ${name}`, `contents ${name}`])
    }
  })
})
