// Hand-made Plan / Options / evidence fixtures for the record tests.
import ssri from 'ssri'

import type { Options, Policy } from '../../../lib/options.js'
import type { RecordInput } from '../../../lib/record/cyclonedx.js'
import type { PackageEvidence, Plan, PlanEntry } from '../../../lib/types.js'
import { PUBLIC_REGISTRY } from '../../helpers/registry-host.js'
import { optionsWith, planEntry, policyWith } from '../../helpers/model.js'

export const DEFAULT_REGISTRY = PUBLIC_REGISTRY
export const SCOPED_REGISTRY = 'https://npm.example.com/scoped/'

export function sri (data: string, algorithms: string[] = ['sha512']): string {
  return ssri.fromData(data, { algorithms }).toString()
}

/** hex of the sha512 digest inside an SRI string */
export function sha512Hex (integrity: string): string {
  const digest = (ssri.parse(integrity) as unknown as Record<string, Array<{ digest: string }>>).sha512[0].digest
  return Buffer.from(digest, 'base64').toString('hex')
}

export function makePolicy (overrides: Partial<Policy> = {}): Policy {
  return policyWith({
    allowGit: 'root',
    allowFile: 'root',
    allowDirectory: 'root',
    provenanceRequireFor: ['@trusted/*'],
    trust: 'no-downgrade',
    trustIgnoreAfterDays: undefined,
    signaturesRegistry: undefined,
    auditLevel: 'high',
    registryAdvisories: true,
    minReleaseAgeDays: 3,
    minReleaseAgeExclude: ['@scope/*'],
    scan: true,
    ...overrides,
  })
}

export function makeOptions (overrides: Partial<Options> = {}, policy: Partial<Policy> = {}): Options {
  return optionsWith(makePolicy(policy), {
    cache: '/home/u/.npm',
    registry: DEFAULT_REGISTRY,
    scopedRegistries: { '@scope': SCOPED_REGISTRY },
    record: { enabled: true, paths: [], specVersion: '1.6' },
    ...overrides,
  })
}

export function makeEntry (p: Partial<PlanEntry> & { location: string, name: string }): PlanEntry {
  return planEntry({ isRootDependency: false, ...p })
}

const tarball = (name: string, version: string, registry = DEFAULT_REGISTRY): string => {
  const base = name.startsWith('@') ? name.split('/')[1] : name
  return `${registry}${name}/-/${base}-${version}.tgz`
}

export const ENTRIES = {
  plain: makeEntry({
    location: 'node_modules/plain',
    name: 'plain',
    version: '1.2.3',
    resolved: tarball('plain', '1.2.3'),
    integrity: sri('plain@1.2.3'),
    license: 'MIT',
    isRootDependency: true,
    dependencies: ['node_modules/parent'],
  }),
  scoped: makeEntry({
    location: 'node_modules/@scope/pkg',
    name: '@scope/pkg',
    version: '2.0.0-beta.1+build.5',
    resolved: tarball('@scope/pkg', '2.0.0-beta.1+build.5', SCOPED_REGISTRY),
    integrity: sri('@scope/pkg@2', ['sha512', 'sha1']),
    license: '(MIT OR Apache-2.0)',
    isRootDependency: true,
  }),
  alias: makeEntry({
    location: 'node_modules/alias-name',
    name: 'real-pkg',
    installName: 'alias-name',
    version: '3.1.0',
    resolved: tarball('real-pkg', '3.1.0'),
    integrity: sri('real-pkg@3.1.0'),
    license: 'SEE LICENSE IN LICENSE.txt',
    isRootDependency: true,
    hasInstallScript: true,
  }),
  parent: makeEntry({
    location: 'node_modules/parent',
    name: 'parent',
    version: '4.0.0',
    resolved: tarball('parent', '4.0.0'),
    integrity: sri('parent@4.0.0'),
    license: 'ISC',
    dependencies: ['node_modules/parent/node_modules/bundled-child'],
  }),
  bundled: makeEntry({
    location: 'node_modules/parent/node_modules/bundled-child',
    name: 'bundled-child',
    version: '0.1.0',
    bundled: true,
  }),
  dev: makeEntry({
    location: 'node_modules/devdep',
    name: 'devdep',
    version: '5.0.0',
    resolved: tarball('devdep', '5.0.0'),
    integrity: sri('devdep@5.0.0'),
    dev: true,
    isRootDependency: true,
  }),
  optional: makeEntry({
    location: 'node_modules/optdep',
    name: 'optdep',
    version: '6.0.0',
    resolved: tarball('optdep', '6.0.0'),
    integrity: sri('optdep@6.0.0'),
    optional: true,
    isRootDependency: true,
  }),
  git: makeEntry({
    location: 'node_modules/gitdep',
    name: 'gitdep',
    version: '0.0.1',
    source: 'git',
    resolved: 'git+ssh://git@github.com/example/gitdep.git#0123456789abcdef0123456789abcdef01234567',
    isRootDependency: true,
  }),
  wsLink: makeEntry({
    location: 'node_modules/ws-a',
    name: 'ws-a',
    version: '0.0.0',
    source: 'link',
    resolved: 'packages/ws-a',
    isRootDependency: true,
  }),
} satisfies Record<string, PlanEntry>

export function makePlan (overrides: Partial<Plan> = {}): Plan {
  const entries = Object.values(ENTRIES).sort((a, b) => (a.location < b.location ? -1 : 1))
  return {
    root: '/project',
    rootName: 'my-app',
    rootVersion: '1.0.0',
    lockfile: 'package-lock.json',
    entries,
    rootDependencies: entries.filter((e) => e.isRootDependency).map((e) => e.location),
    workspaces: [{ location: 'packages/ws-a', name: 'ws-a', version: '0.0.0', dependencies: ['node_modules/plain'] }],
    ...overrides,
  }
}

export function fullEvidence (overrides: Partial<PackageEvidence> = {}): PackageEvidence {
  return {
    integritySource: 'network',
    signature: { status: 'verified', keyid: 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA', keySource: 'tuf' },
    provenance: {
      status: 'verified',
      sourceRepository: 'https://github.com/example/plain',
      commit: 'abcdefabcdefabcdefabcdefabcdefabcdefabcd',
      ref: 'refs/tags/v1.2.3',
      workflow: '.github/workflows/release.yml',
      builder: 'https://github.com/actions/runner/github-hosted',
      buildTrigger: 'push',
      rekorLogIndex: '123456789',
      publishAttestation: 'verified',
      trustedRootSource: 'tuf',
    },
    identity: { status: 'match', declared: 'github.com/example/plain', attested: 'github.com/example/plain' },
    trust: { level: 3, downgrade: false },
    advisories: [],
    scan: { capabilities: ['network'], findings: [{ capability: 'network', file: 'lib/http.js', line: 12 }] },
    releaseAge: { status: 'ok', published: '2024-01-01T00:00:00.000Z', ageDays: 400 },
    scripts: [],
    ...overrides,
  }
}

export function makeEvidence (): Map<string, PackageEvidence> {
  return new Map<string, PackageEvidence>([
    [ENTRIES.plain.location, fullEvidence({
      advisories: [
        { id: 'GHSA-aaaa-bbbb-cccc', title: 'Prototype pollution in plain', severity: 'high', url: 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc', malware: false, source: 'registry', range: '<1.2.4' },
      ],
    })],
    [ENTRIES.scoped.location, fullEvidence({
      signature: { status: 'missing', reason: 'registry has no signature for this version' },
      provenance: { status: 'absent' },
      identity: { status: 'not-checked' },
      trust: { level: 1, downgrade: true, previous: { version: '1.9.0', level: 2 }, reason: 'earlier version had provenance' },
      scan: { capabilities: [], findings: [] },
      releaseAge: { status: 'excluded' },
    })],
    [ENTRIES.alias.location, fullEvidence({
      scripts: ['install', 'postinstall'],
      scan: { capabilities: ['install-scripts', 'child_process'], findings: [] },
      advisories: [
        { id: 'GHSA-aaaa-bbbb-cccc', title: 'Prototype pollution in plain', severity: 'high', malware: false, source: 'registry' },
        { id: 'MAL-2024-1', title: 'Malicious code in real-pkg', severity: 'critical', malware: true, source: 'osv', url: 'https://osv.dev/vulnerability/MAL-2024-1' },
      ],
    })],
    [ENTRIES.parent.location, fullEvidence({ integritySource: 'cache' })],
    [ENTRIES.bundled.location, { integritySource: 'bundled', scripts: [] }],
    [ENTRIES.dev.location, fullEvidence({ advisories: undefined, scan: undefined })],
    // optdep: no evidence at all
    [ENTRIES.git.location, { integritySource: 'network', scripts: ['prepare'] }],
    [ENTRIES.wsLink.location, { integritySource: 'link', scripts: [] }],
  ])
}

export const TOOL = { name: 'safe-install', version: '0.1.0' }
export const LIBRARIES = { '@npmcli/arborist': '9.9.3', pacote: '21.5.3', '@npmcli/config': '10.14.0' }

/** A whole record input from the fixtures above, with `over` in place of any field. */
export function makeRecordInput (over: Partial<RecordInput> = {}): RecordInput {
  return {
    plan: makePlan(),
    evidence: makeEvidence(),
    options: makeOptions(),
    command: 'safe-install ci --omit=peer',
    tool: TOOL,
    libraries: LIBRARIES,
    notes: [
      { check: 'signatures', message: 'registry keys from the embedded copy (TUF unreachable)', level: 'warning' },
      { check: 'provenance', message: 'trusted root from TUF', level: 'info' },
    ],
    timestamp: new Date('2025-01-02T03:04:05.000Z'),
    keySources: { [DEFAULT_REGISTRY]: 'embedded', 'trusted-root': 'tuf' },
    ...over,
  }
}
