// `trustedRoot` (`--trusted-root <file>`): a Sigstore trusted_root.json used
// instead of the public-good root. A bad file is ESITRUSTEDROOT when the
// options are built, never a fallback to another root.
import fs from 'node:fs'
import path from 'node:path'
import { createHash } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadOptions } from '../../../lib/config/load.js'
import { SafeInstallError } from '../../../lib/errors.js'
import { EvidenceRun } from '../../../lib/evidence/run.js'
import { provenanceCheck } from '../../../lib/evidence/provenance.js'
import { loadTrustedRootFile } from '../../../lib/evidence/trusted-root.js'
import type { SigstoreTargets } from '../../../lib/evidence/tuf.js'
import { createTestSigstore, type TestSigstore } from '../../fixtures/sigstore/index.js'
import { fakeCtx, fakeOptions, fakePkg, PROXY, tmpDir } from './helpers.js'

let pki: TestSigstore
let dir: string
let rootFile: string
beforeAll(() => {
  pki = createTestSigstore()
  dir = tmpDir()
  rootFile = pki.writeTrustedRoot(path.join(dir, 'trusted_root.json'))
})

function write (name: string, content: string): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, content)
  return file
}

function refusal (fn: () => unknown): SafeInstallError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(SafeInstallError)
    expect((err as SafeInstallError).code).toBe('ESITRUSTEDROOT')
    expect((err as SafeInstallError).exitCode).toBe(2)
    return err as SafeInstallError
  }
  throw new Error('expected ESITRUSTEDROOT')
}

/** TUF that must not be asked */
const noTuf: SigstoreTargets = { target: async (name) => { throw new Error(`TUF asked for ${name}`) } }

describe('loadTrustedRootFile', () => {
  it('reads a trusted root; the same file gives the same parsed root', () => {
    const root = loadTrustedRootFile(rootFile)
    expect(root.certificateAuthorities).toHaveLength(1)
    expect(root.tlogs).toHaveLength(1)
    expect(loadTrustedRootFile(rootFile)).toBe(root)
  })

  it('a missing file, a file that is not JSON, not a trusted root, or names no CA or log: ESITRUSTEDROOT', () => {
    expect(refusal(() => loadTrustedRootFile(path.join(dir, 'absent.json'))).message).toMatch(/cannot be read \(.*ENOENT/)
    expect(refusal(() => loadTrustedRootFile(write('text.json', 'not json'))).message).toMatch(/is not JSON/)
    expect(refusal(() => loadTrustedRootFile(write('keys.json', JSON.stringify({ keys: [] })))).message)
      .toMatch(/is not a Sigstore trusted root \(mediaType undefined/)
    const noCa = { ...pki.trustedRoot, certificateAuthorities: [] }
    expect(refusal(() => loadTrustedRootFile(write('no-ca.json', JSON.stringify(noCa)))).message).toMatch(/names no certificate authority/)
    const noLog = { ...pki.trustedRoot, tlogs: [] }
    expect(refusal(() => loadTrustedRootFile(write('no-log.json', JSON.stringify(noLog)))).message).toMatch(/names no transparency log/)
  })

  it('a damaged certificate or key: ESITRUSTEDROOT', () => {
    const bad = structuredClone(pki.trustedRoot)
    bad.certificateAuthorities[0].certChain.certificates[0].rawBytes = Buffer.from('not a certificate').toString('base64')
    const err = refusal(() => loadTrustedRootFile(write('bad-cert.json', JSON.stringify(bad))))
    expect(err.message).toMatch(/has an entry that cannot be used/)
    expect(err.path).toBe(path.join(dir, 'bad-cert.json'))
  })
})

describe('EvidenceRun.trustedRoot with policy.trustedRoot', () => {
  it('uses the file (source "file", one note), never TUF; generated provenance verifies against it', async () => {
    const integrity = `sha512-${createHash('sha512').update('bytes').digest('base64')}`
    const pkg = fakePkg({
      name: 'gen-pkg',
      version: '2.0.0',
      integrity,
      registry: PROXY,
      registryManifest: { name: 'gen-pkg', version: '2.0.0', dist: { integrity, attestations: { url: 'x', provenance: { predicateType: 'https://slsa.dev/provenance/v1' } } } },
    })
    const run = new EvidenceRun({ tuf: noTuf })
    const ctx = fakeCtx({
      options: fakeOptions({ trustedRoot: rootFile }, { registry: PROXY }),
      fetch: {
        [`${PROXY}-/npm/v1/attestations/gen-pkg@2.0.0`]: pki.attestations({ name: 'gen-pkg', version: '2.0.0', integrity }),
        [`${PROXY}-/npm/v1/keys`]: pki.keysDocument(),
      },
    })
    const root = await run.trustedRoot(ctx)
    expect(root.source).toBe('file')
    const res = await provenanceCheck(run).check!(pkg, ctx)
    expect(res.evidence?.provenance).toMatchObject({ status: 'verified', publishAttestation: 'verified', trustedRootSource: 'file', sourceRepository: 'https://github.com/fixture-org/gen-pkg' })
    expect(ctx.notes.filter(n => n.check === 'provenance')).toEqual([{
      check: 'provenance',
      level: 'info',
      message: `Provenance is verified against the Sigstore trusted root in ${rootFile} (trustedRoot), not the public-good one.`,
    }])
  })
})

describe('loadOptions: --trusted-root and safeInstall.trustedRoot', () => {
  function project (safeInstall?: Record<string, unknown>): { cwd: string, userconfig: string } {
    const cwd = fs.mkdtempSync(path.join(dir, 'project-'))
    fs.writeFileSync(path.join(cwd, 'package.json'), JSON.stringify({ name: 'p', version: '1.0.0', safeInstall }))
    const userconfig = path.join(cwd, '.npmrc-user')
    fs.writeFileSync(userconfig, '')
    return { cwd, userconfig }
  }
  const load = (p: { cwd: string, userconfig: string }, trustedRoot?: string) => loadOptions({
    argv: ['ci', '--userconfig', p.userconfig],
    cwd: p.cwd,
    env: {},
    flags: { command: 'ci', policy: trustedRoot === undefined ? {} : { trustedRoot } },
  })

  it('the package.json setting is relative to the project; the flag wins', async () => {
    const p = project({ trustedRoot: 'root.json' })
    fs.copyFileSync(rootFile, path.join(p.cwd, 'root.json'))
    expect((await load(p)).policy.trustedRoot).toBe(path.join(p.cwd, 'root.json'))
    expect((await load(p, rootFile)).policy.trustedRoot).toBe(rootFile)
    expect((await load(project())).policy.trustedRoot).toBeUndefined()
  })

  it('a file that cannot be used fails when the options are built (ESITRUSTEDROOT), even with provenance off', async () => {
    const p = project({ trustedRoot: 'missing.json', provenance: 'off' })
    await expect(load(p)).rejects.toMatchObject({ code: 'ESITRUSTEDROOT', path: path.join(p.cwd, 'missing.json') })
  })
})
