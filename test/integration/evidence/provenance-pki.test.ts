// Provenance made by the test Sigstore PKI (test/fixtures/sigstore) and served
// by the fixture registry, verified by the real CLI with `--trusted-root`:
// the private-deployment case, and what lets tests and benchmarks give every
// package real provenance and a publish attestation.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { snapshotTree } from '../../helpers/tree.js'
import { SLOW, codes, evidenceOf, setupOn, startStoreRegistry, type Setup, type StoreRegistry } from './helpers.js'

const ALPHA_COMMIT = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1'
const ALPHA_REPO = 'https://github.com/fixture-org/alpha'

let s: Setup | undefined
afterEach(async () => { await s?.cleanup(); s = undefined })

/** alpha (declares its repository) -> @fixture/beta; both with generated provenance */
async function attestedRegistry (): Promise<StoreRegistry> {
  const reg = await startStoreRegistry()
  await reg.publish({
    name: 'alpha',
    version: '1.0.0',
    manifest: { dependencies: { '@fixture/beta': '^2.0.0' }, repository: { type: 'git', url: `git+${ALPHA_REPO}.git` } },
    provenance: { repository: ALPHA_REPO, commit: ALPHA_COMMIT, ref: 'refs/heads/main', trigger: 'workflow_dispatch' },
  })
  await reg.publish({ name: '@fixture/beta', version: '2.0.0', provenance: true })
  return reg
}

function freshCache (): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'si-cache-'))
}

describe('provenance from the test Sigstore PKI, --trusted-root', { timeout: SLOW }, () => {
  it('verified with the generated repository and commit, publish attestation verified, source "file"; --provenance require passes; without the root it does not verify', async () => {
    const reg = await attestedRegistry()
    const root = reg.trustedRootFile()
    s = await setupOn(reg, { dependencies: { alpha: '1.0.0' } })

    const { code, report, stderr } = await s.siJson(['ci', '--trusted-root', root])
    expect(code, stderr).toBe(0)
    const alpha = evidenceOf(report, 'alpha')
    expect(alpha.signature.status).toBe('verified')
    expect(alpha.provenance).toMatchObject({
      status: 'verified',
      sourceRepository: ALPHA_REPO,
      commit: ALPHA_COMMIT,
      ref: 'refs/heads/main',
      workflow: '.github/workflows/release.yml',
      buildTrigger: 'workflow_dispatch',
      publishAttestation: 'verified',
      trustedRootSource: 'file',
    })
    expect(alpha.provenance.rekorLogIndex).toMatch(/^\d+$/)
    expect(alpha.identity).toMatchObject({ status: 'match', attested: ALPHA_REPO })
    expect(evidenceOf(report, '@fixture/beta').provenance).toMatchObject({
      status: 'verified',
      sourceRepository: 'https://github.com/fixture/beta',
      publishAttestation: 'verified',
      trustedRootSource: 'file',
    })
    const notes = report.notes.filter((n: any) => n.check === 'provenance')
    expect(notes).toEqual([{ check: 'provenance', level: 'info', message: expect.stringContaining(`trusted root in ${root}`) }])
    expect(fs.existsSync(path.join(s.nodeModules, '@fixture/beta/package.json'))).toBe(true)

    // the record carries the source and the setting
    const record = JSON.parse(fs.readFileSync(path.join(s.nodeModules, '.safe-install/record.cdx.json'), 'utf8'))
    const props = (record.components as any[]).find(c => c.name === 'alpha').properties as Array<{ name: string, value: string }>
    expect(props).toContainEqual({ name: 'safe-install:provenance:trusted-root-source', value: 'file' })
    expect(record.metadata.properties).toContainEqual({ name: 'safe-install:policy:trusted-root', value: root })

    const required = await s.siJson(['ci', '--trusted-root', root, '--provenance', 'require', '--cache', freshCache()])
    expect(required.code, required.stderr).toBe(0)
    expect(codes(required.report)).toEqual([])

    // against the public-good root (embedded: TUF is unreachable here), the test CA is unknown
    const foreign = await s.siJson(['ci', '--cache', freshCache()])
    expect(foreign.code).toBe(1)
    expect(new Set(codes(foreign.report))).toEqual(new Set(['ESIPROVINVALID']))
    expect(foreign.report.violations[0].message).toMatch(/provenance: Failed to verify certificate chain/)
  })

  it('a tampered bundle: ESIPROVINVALID and node_modules untouched', async () => {
    const reg = await attestedRegistry()
    const root = reg.trustedRootFile()
    s = await setupOn(reg, { dependencies: { alpha: '1.0.0' } })
    expect((await s.siJson(['ci', '--trusted-root', root])).code).toBe(0)
    const before = snapshotTree(s.nodeModules)

    // one byte of the signed statement changed (the commit), the signature kept
    const doc: any = structuredClone(reg.attest('@fixture/beta', '2.0.0'))
    const env = doc.attestations[0].bundle.dsseEnvelope
    const statement = Buffer.from(env.payload, 'base64').toString('utf8')
    const commit = JSON.parse(statement).predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit as string
    env.payload = Buffer.from(statement.replace(commit, commit.replace(/^./, c => c === 'f' ? 'e' : 'f'))).toString('base64')
    reg.setAttestations('@fixture/beta', '2.0.0', doc)

    const { code, report } = await s.siJson(['ci', '--trusted-root', root, '--cache', freshCache()])
    expect(code).toBe(1)
    expect(codes(report)).toEqual(['ESIPROVINVALID'])
    expect(report.violations[0].package).toBe('@fixture/beta@2.0.0')
    expect(report.violations[0].message).toMatch(/provenance does not verify: provenance: /)
    expect(snapshotTree(s.nodeModules)).toEqual(before)
  })

  it('a trusted root file that cannot be used: ESITRUSTEDROOT (exit 2), nothing fetched or written', async () => {
    const reg = await attestedRegistry()
    s = await setupOn(reg, { dependencies: { alpha: '1.0.0' } })
    const bad = path.join(s.project.dir, 'not-a-root.json')
    fs.writeFileSync(bad, JSON.stringify({ keys: [] }))
    const requestsBefore = reg.requests.length

    const r = await s.si(['ci', '--trusted-root', bad])
    expect(r.code).toBe(2)
    expect(r.stderr + r.stdout).toMatch(/ESITRUSTEDROOT/)
    expect(r.stderr + r.stdout).toContain('not-a-root.json is not a Sigstore trusted root')
    expect(reg.requests.length).toBe(requestsBefore)
    expect(fs.existsSync(s.nodeModules)).toBe(false)
  })
})
