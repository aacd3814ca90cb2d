import { createRequire } from 'node:module'

import { Validation, Spec } from '@cyclonedx/cyclonedx-library'
import { describe, expect, it } from 'vitest'

import {
  buildRecord, npmDefaultRegistry, npmPurl, NOT_CHECKED, serializeRecord, type RecordInput, type RecordSpecVersion,
} from '../../../lib/record/cyclonedx.js'
import type { PackageEvidence } from '../../../lib/types.js'
import {
  DEFAULT_REGISTRY, ENTRIES, makeOptions, makePlan, makeRecordInput, SCOPED_REGISTRY, sha512Hex,
} from './fixtures.js'
import { PUBLIC_REGISTRY } from '../../helpers/registry-host.js'

type Json = Record<string, any>

const input = makeRecordInput

function render (over: Partial<RecordInput> = {}, spec: RecordSpecVersion = '1.6'): { text: string, doc: Json } {
  const text = serializeRecord(buildRecord(input(over)), spec)
  return { text, doc: JSON.parse(text) }
}

function props (c: Json): Map<string, string[]> {
  const m = new Map<string, string[]>()
  for (const p of c.properties ?? []) m.set(p.name, [...(m.get(p.name) ?? []), p.value])
  return m
}
const prop = (c: Json, name: string): string | undefined => props(c).get(name)?.[0]

function componentAt (doc: Json, location: string): Json {
  const found = (doc.components as Json[]).filter((c) => prop(c, 'cdx:npm:package:path') === location)
  expect(found, location).toHaveLength(1)
  return found[0]
}

const validators: Record<RecordSpecVersion, Validation.JsonStrictValidator> = {
  '1.6': new Validation.JsonStrictValidator(Spec.Version.v1dot6),
  '1.7': new Validation.JsonStrictValidator(Spec.Version.v1dot7),
}

describe('schema validity', () => {
  for (const spec of ['1.6', '1.7'] as const) {
    it(`validates against the CycloneDX ${spec} strict schema`, async () => {
      const { text, doc } = render({}, spec)
      expect(doc.specVersion).toBe(spec)
      expect(await validators[spec].validate(text)).toBeNull()
    })

    it(`validates with no evidence at all, empty workspaces and no root name (${spec})`, async () => {
      const { text } = render({
        evidence: new Map(),
        plan: makePlan({ rootName: '', rootVersion: '', workspaces: [] }),
        notes: [],
        keySources: undefined,
      }, spec)
      expect(await validators[spec].validate(text)).toBeNull()
    })

    it(`validates with an empty plan (${spec})`, async () => {
      const { text, doc } = render({ plan: makePlan({ entries: [], rootDependencies: [], workspaces: [] }), evidence: new Map() }, spec)
      expect(doc.components).toEqual([])
      expect(await validators[spec].validate(text)).toBeNull()
    })
  }
})

describe('components', () => {
  it('has exactly one component per plan entry, with the right hash', () => {
    const { doc } = render()
    const plan = makePlan()
    const paths = (doc.components as Json[]).map((c) => prop(c, 'cdx:npm:package:path'))
    for (const entry of plan.entries) {
      const c = componentAt(doc, entry.location)
      expect(c['bom-ref']).toBe(entry.location)
      expect(c.version).toBe(entry.version)
      if (entry.integrity) {
        expect(c.hashes).toEqual([{ alg: 'SHA-512', content: sha512Hex(entry.integrity) }])
      } else {
        expect(c.hashes).toBeUndefined()
      }
    }
    // plus the workspace folder, nothing else
    expect(paths.sort()).toEqual([...plan.entries.map((e) => e.location), 'packages/ws-a'].sort())
    const refs = (doc.components as Json[]).map((c) => c['bom-ref'])
    expect(new Set(refs).size).toBe(refs.length)
  })

  it('plain registry package: purl, license, distribution reference, npm taxonomy', () => {
    const { doc } = render()
    const c = componentAt(doc, ENTRIES.plain.location)
    expect(c.type).toBe('library')
    expect(c.name).toBe('plain')
    expect(c.group).toBeUndefined()
    expect(c.purl).toBe('pkg:npm/plain@1.2.3')
    expect(c.licenses).toEqual([{ license: { id: 'MIT' } }])
    expect(c.externalReferences).toEqual([
      expect.objectContaining({ type: 'distribution', url: ENTRIES.plain.resolved }),
    ])
    expect(c.scope).toBe('required')
    expect(prop(c, 'cdx:npm:package:development')).toBe('false')
    expect(prop(c, 'cdx:npm:package:optional')).toBe('false')
    expect(prop(c, 'cdx:npm:package:bundled')).toBe('false')
    expect(prop(c, 'safe-install:install-name')).toBe('plain')
    expect(prop(c, 'safe-install:source')).toBe('registry')
    expect(prop(c, 'safe-install:integrity')).toBe(ENTRIES.plain.integrity)
  })

  it('scoped package: group/name split, encoded purl, repository_url for a non-default registry, expression license', () => {
    const { doc } = render()
    const c = componentAt(doc, ENTRIES.scoped.location)
    expect(c.group).toBe('@scope')
    expect(c.name).toBe('pkg')
    expect(c.purl).toBe(`pkg:npm/%40scope/pkg@2.0.0-beta.1%2Bbuild.5?repository_url=${encodeURIComponent(SCOPED_REGISTRY.replace(/\/$/, '')).replace(/%3A/g, ':')}`)
    expect(c.licenses).toEqual([{ expression: '(MIT OR Apache-2.0)' }])
    // a sha512+sha1 integrity still gives the one sha512 hash
    expect(c.hashes).toEqual([{ alg: 'SHA-512', content: sha512Hex(ENTRIES.scoped.integrity!) }])
  })

  it('no repository_url when the registry is npm\'s default, which comes from @npmcli/config', () => {
    const require = createRequire(import.meta.url)
    const { definitions } = require('@npmcli/config/lib/definitions')
    expect(npmDefaultRegistry()).toBe(definitions.registry.default.replace(/\/?$/, '/'))
    const { doc } = render({ options: makeOptions({ registry: 'https://mirror.example.org/npm/' }) })
    expect(componentAt(doc, ENTRIES.plain.location).purl).toBe('pkg:npm/plain@1.2.3?repository_url=https:%2F%2Fmirror.example.org%2Fnpm')
    // the fetch stage's registry wins over configuration
    const sources = new Map([[ENTRIES.plain.location, { registry: npmDefaultRegistry(), tarballUrl: `${PUBLIC_REGISTRY}plain/-/plain-1.2.3.tgz` }]])
    const { doc: doc2 } = render({ options: makeOptions({ registry: 'https://mirror.example.org/npm/' }), sources })
    expect(componentAt(doc2, ENTRIES.plain.location).purl).toBe('pkg:npm/plain@1.2.3')
  })

  it('aliased package is recorded under its real name, with its install name', () => {
    const { doc } = render()
    const c = componentAt(doc, ENTRIES.alias.location)
    expect(c.name).toBe('real-pkg')
    expect(c.purl).toBe('pkg:npm/real-pkg@3.1.0')
    expect(prop(c, 'safe-install:install-name')).toBe('alias-name')
    expect(c.licenses).toEqual([{ license: { name: 'SEE LICENSE IN LICENSE.txt' } }])
  })

  it('bundled, dev and optional entries carry the npm taxonomy flags', () => {
    const { doc } = render()
    const bundled = componentAt(doc, ENTRIES.bundled.location)
    expect(prop(bundled, 'cdx:npm:package:bundled')).toBe('true')
    expect(bundled.externalReferences).toBeUndefined()
    const dev = componentAt(doc, ENTRIES.dev.location)
    expect(prop(dev, 'cdx:npm:package:development')).toBe('true')
    expect(dev.scope).toBe('optional')
    const opt = componentAt(doc, ENTRIES.optional.location)
    expect(prop(opt, 'cdx:npm:package:optional')).toBe('true')
    expect(opt.scope).toBe('optional')
  })

  it('git entries get a vcs_url qualifier and a vcs reference', () => {
    const { doc } = render()
    const c = componentAt(doc, ENTRIES.git.location)
    expect(c.purl).toBe(`pkg:npm/gitdep@0.0.1?vcs_url=${encodeURIComponent(ENTRIES.git.resolved!).replace(/%3A/g, ':')}`)
    expect(c.externalReferences).toEqual([expect.objectContaining({ type: 'vcs' })])
    expect(c.hashes).toBeUndefined()
  })

  it('root project and tool are in the metadata', () => {
    const { doc } = render()
    expect(doc.metadata.timestamp).toBe('2025-01-02T03:04:05.000Z')
    expect(doc.metadata.component).toMatchObject({ type: 'application', name: 'my-app', version: '1.0.0', 'bom-ref': 'pkg:npm/my-app@1.0.0' })
    expect(doc.metadata.tools.components).toEqual([expect.objectContaining({ type: 'application', name: 'safe-install', version: '0.1.0' })])
    expect(doc.serialNumber).toMatch(/^urn:uuid:[0-9a-f-]{36}$/)
  })

  it('a scoped root name is split too', () => {
    const { doc } = render({ plan: makePlan({ rootName: '@corp/app' }) })
    expect(doc.metadata.component).toMatchObject({ group: '@corp', name: 'app', purl: 'pkg:npm/%40corp/app@1.0.0' })
  })
})

describe('metadata properties', () => {
  it('records command, node, libraries, every policy field, registries, key sources and notes', () => {
    const { doc } = render()
    const p = props(doc.metadata)
    expect(p.get('safe-install:command')).toEqual(['safe-install ci --omit=peer'])
    expect(p.get('safe-install:node')).toEqual([process.version])
    expect(p.get('safe-install:lockfile')).toEqual(['package-lock.json'])
    expect(p.get('safe-install:library:@npmcli/arborist')).toEqual(['9.9.3'])
    expect(p.get('safe-install:library:pacote')).toEqual(['21.5.3'])
    const policy = makeOptions().policy
    for (const field of Object.keys(policy)) {
      const name = `safe-install:policy:${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
      expect(p.get(name), name).toHaveLength(1)
    }
    expect(p.get('safe-install:policy:signatures')).toEqual(['verify'])
    expect(p.get('safe-install:policy:provenance-require-for')).toEqual(['@trusted/*'])
    expect(p.get('safe-install:policy:identity-require-for')).toEqual(['none'])
    expect(p.get('safe-install:policy:trust-ignore-after-days')).toEqual(['unset'])
    expect(p.get('safe-install:policy:min-release-age-days')).toEqual(['3'])
    expect(p.get('safe-install:registry')).toEqual([DEFAULT_REGISTRY])
    expect(p.get('safe-install:registry:@scope')).toEqual([SCOPED_REGISTRY])
    expect(p.get(`safe-install:key-source:${DEFAULT_REGISTRY}`)).toEqual(['embedded'])
    expect(p.get('safe-install:key-source:trusted-root')).toEqual(['tuf'])
    expect(p.get('safe-install:note:signatures')).toEqual(['warning: registry keys from the embedded copy (TUF unreachable)'])
    expect(p.get('safe-install:note:provenance')).toEqual(['info: trusted root from TUF'])
  })
})

describe('evidence properties', () => {
  const EVIDENCE_FIELDS = [
    'safe-install:integrity-source', 'safe-install:signature', 'safe-install:provenance', 'safe-install:identity',
    'safe-install:trust', 'safe-install:scripts', 'safe-install:scripts:skipped', 'safe-install:scan:capabilities',
    'safe-install:advisories', 'safe-install:release-age',
  ]

  it('every entry states every check, with a reason whenever it was not checked', () => {
    const { doc } = render()
    for (const entry of makePlan().entries) {
      const c = componentAt(doc, entry.location)
      const p = props(c)
      for (const field of EVIDENCE_FIELDS) {
        expect(p.get(field), `${entry.location} ${field}`).toHaveLength(1)
        if (p.get(field)![0] === NOT_CHECKED) {
          const reasonName = field === 'safe-install:scan:capabilities'
            ? 'safe-install:scan:reason'
            : field === 'safe-install:scripts:skipped' ? 'safe-install:scripts:reason' : `${field}:reason`
          expect(p.get(reasonName)?.[0], `${entry.location} ${reasonName}`).toMatch(/\w/)
        }
      }
    }
  })

  it('full evidence is recorded', () => {
    const { doc } = render()
    const c = componentAt(doc, ENTRIES.plain.location)
    expect(prop(c, 'safe-install:integrity-source')).toBe('network')
    expect(prop(c, 'safe-install:signature')).toBe('verified')
    expect(prop(c, 'safe-install:signature:keyid')).toBe('SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA')
    expect(prop(c, 'safe-install:signature:key-source')).toBe('tuf')
    expect(prop(c, 'safe-install:provenance')).toBe('verified')
    expect(prop(c, 'safe-install:provenance:source-repository')).toBe('https://github.com/example/plain')
    expect(prop(c, 'safe-install:provenance:commit')).toBe('abcdefabcdefabcdefabcdefabcdefabcdefabcd')
    expect(prop(c, 'safe-install:provenance:workflow')).toBe('.github/workflows/release.yml')
    expect(prop(c, 'safe-install:provenance:rekor-log-index')).toBe('123456789')
    expect(prop(c, 'safe-install:identity')).toBe('match')
    expect(prop(c, 'safe-install:trust')).toBe('3')
    expect(prop(c, 'safe-install:trust:downgrade')).toBe('false')
    expect(prop(c, 'safe-install:scripts')).toBe('none')
    expect(prop(c, 'safe-install:scan:capabilities')).toBe('network')
    expect(props(c).get('safe-install:scan:finding')).toEqual(['network lib/http.js:12'])
    expect(prop(c, 'safe-install:advisories')).toBe('GHSA-aaaa-bbbb-cccc')
    expect(prop(c, 'safe-install:release-age')).toBe('ok')
    expect(prop(c, 'safe-install:release-age:age-days')).toBe('400')
  })

  it('downgrades, missing signatures and scripts are recorded', () => {
    const { doc } = render()
    const scoped = componentAt(doc, ENTRIES.scoped.location)
    expect(prop(scoped, 'safe-install:signature')).toBe('missing')
    expect(prop(scoped, 'safe-install:signature:reason')).toBe('registry has no signature for this version')
    expect(prop(scoped, 'safe-install:provenance')).toBe('absent')
    expect(prop(scoped, 'safe-install:identity')).toBe(NOT_CHECKED)
    expect(prop(scoped, 'safe-install:identity:reason')).toMatch(/provenance/)
    expect(prop(scoped, 'safe-install:trust')).toBe('1')
    expect(prop(scoped, 'safe-install:trust:downgrade')).toBe('true')
    expect(prop(scoped, 'safe-install:trust:previous')).toBe('1.9.0 (level 2)')
    expect(prop(scoped, 'safe-install:scan:capabilities')).toBe('none')
    const alias = componentAt(doc, ENTRIES.alias.location)
    expect(prop(alias, 'safe-install:scripts')).toBe('install,postinstall')
    expect(prop(alias, 'safe-install:scripts:skipped')).toBe('install,postinstall')
    expect(prop(alias, 'safe-install:has-install-script')).toBe('true')
    expect(prop(alias, 'safe-install:scan:capabilities')).toBe('child_process,install-scripts')
  })

  it('absent evidence says not-checked with a reason', () => {
    const { doc } = render()
    const opt = componentAt(doc, ENTRIES.optional.location)
    for (const f of ['integrity-source', 'signature', 'provenance', 'identity', 'trust', 'scripts', 'advisories', 'release-age']) {
      expect(prop(opt, `safe-install:${f}`), f).toBe(NOT_CHECKED)
    }
    expect(prop(opt, 'safe-install:signature:reason')).toBe('no evidence was recorded for this package')
    const bundled = componentAt(doc, ENTRIES.bundled.location)
    expect(prop(bundled, 'safe-install:integrity-source')).toBe('bundled')
    expect(prop(bundled, 'safe-install:signature')).toBe(NOT_CHECKED)
    expect(prop(bundled, 'safe-install:signature:reason')).toMatch(/bundled/)
    // advisories apply to bundled packages too: the reason is not "bundled"
    expect(prop(bundled, 'safe-install:advisories:reason')).toBe('the advisory check reported no result')
    const link = componentAt(doc, ENTRIES.wsLink.location)
    expect(prop(link, 'safe-install:integrity-source')).toBe('link')
    expect(prop(link, 'safe-install:signature:reason')).toBe('local package (source=link): nothing was fetched')
    const git = componentAt(doc, ENTRIES.git.location)
    expect(prop(git, 'safe-install:provenance:reason')).toMatch(/source=git/)
    expect(prop(git, 'safe-install:scripts')).toBe('prepare')
    const dev = componentAt(doc, ENTRIES.dev.location)
    expect(prop(dev, 'safe-install:advisories')).toBe(NOT_CHECKED)
    expect(prop(dev, 'safe-install:scan:capabilities')).toBe(NOT_CHECKED)
  })

  it('reasons name the policy when a check is disabled', () => {
    const evidence = new Map<string, PackageEvidence>([[ENTRIES.plain.location, { integritySource: 'network', scripts: [] }]])
    const { doc } = render({
      evidence,
      options: makeOptions({}, { signatures: 'off', provenance: 'off', scan: false, minReleaseAgeDays: 0, auditLevel: 'none', registryAdvisories: false }),
    })
    const c = componentAt(doc, ENTRIES.plain.location)
    expect(prop(c, 'safe-install:signature:reason')).toMatch(/signatures=off/)
    expect(prop(c, 'safe-install:provenance:reason')).toMatch(/provenance=off/)
    expect(prop(c, 'safe-install:scan:reason')).toMatch(/scan=false/)
    expect(prop(c, 'safe-install:release-age:reason')).toMatch(/min-release-age-days=0/)
    expect(prop(c, 'safe-install:advisories:reason')).toMatch(/audit-level=none/)
  })
})

describe('dependency graph', () => {
  function graph (doc: Json): Map<string, string[]> {
    return new Map((doc.dependencies as Json[]).map((d) => [d.ref, d.dependsOn ?? []]))
  }

  it('has the root, every entry and workspace, with their edges', () => {
    const { doc } = render()
    const g = graph(doc)
    const plan = makePlan()
    const rootRef = doc.metadata.component['bom-ref']
    expect(g.get(rootRef)).toEqual([...plan.rootDependencies, 'packages/ws-a'].sort())
    for (const e of plan.entries) expect(g.has(e.location), e.location).toBe(true)
    expect(g.get(ENTRIES.plain.location)).toEqual([ENTRIES.parent.location])
    expect(g.get(ENTRIES.parent.location)).toEqual([ENTRIES.bundled.location])
    expect(g.get(ENTRIES.wsLink.location)).toEqual(['packages/ws-a'])
    expect(g.get('packages/ws-a')).toEqual([ENTRIES.plain.location])
    // every ref points at a component
    const refs = new Set([rootRef, ...(doc.components as Json[]).map((c) => c['bom-ref'])])
    for (const [ref, deps] of g) {
      expect(refs.has(ref)).toBe(true)
      for (const d of deps) expect(refs.has(d), d).toBe(true)
    }
  })

  it('workspace components are libraries with the workspace flag', () => {
    const { doc } = render()
    const ws = componentAt(doc, 'packages/ws-a')
    expect(ws).toMatchObject({ type: 'library', name: 'ws-a', 'bom-ref': 'packages/ws-a' })
    expect(prop(ws, 'safe-install:workspace')).toBe('true')
  })

  it('a plan entry at a workspace location is not duplicated', () => {
    const wsEntry = { ...ENTRIES.plain, location: 'packages/ws-a', name: 'ws-a', installName: 'ws-a', source: 'workspace' as const, integrity: undefined, resolved: undefined, dependencies: [] }
    const plan = makePlan()
    const { doc } = render({ plan: { ...plan, entries: [...plan.entries, wsEntry] } })
    const ws = componentAt(doc, 'packages/ws-a')
    expect(prop(ws, 'safe-install:workspace')).toBe('true')
    expect(graph(doc).get('packages/ws-a')).toEqual([ENTRIES.plain.location])
  })

  it('edges to locations not in the plan (omitted) are dropped', () => {
    const plan = makePlan()
    const entries = plan.entries.map((e) => e.location === ENTRIES.plain.location ? { ...e, dependencies: ['node_modules/omitted'] } : e)
    const { doc } = render({ plan: { ...plan, entries } })
    expect(graph(doc).get(ENTRIES.plain.location)).toEqual([])
  })
})

describe('vulnerabilities', () => {
  it('one vulnerability per advisory, affecting every location it was found at', () => {
    const { doc } = render()
    const vulns = doc.vulnerabilities as Json[]
    expect(vulns.map((v) => v.id).sort()).toEqual(['GHSA-aaaa-bbbb-cccc', 'MAL-2024-1'])
    const ghsa = vulns.find((v) => v.id === 'GHSA-aaaa-bbbb-cccc')!
    expect(ghsa.source).toEqual({ name: 'npm registry', url: 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc' })
    expect(ghsa.ratings).toEqual([expect.objectContaining({ severity: 'high' })])
    expect(ghsa.description).toBe('Prototype pollution in plain')
    expect(ghsa.affects.map((a: Json) => a.ref).sort()).toEqual([ENTRIES.alias.location, ENTRIES.plain.location].sort())
    expect(prop(ghsa, 'safe-install:advisory:range')).toBe('<1.2.4')
    const mal = vulns.find((v) => v.id === 'MAL-2024-1')!
    expect(mal.source.name).toBe('OSV')
    expect(mal.ratings[0].severity).toBe('critical')
    expect(prop(mal, 'safe-install:malware')).toBe('true')
    expect(mal.affects).toEqual([{ ref: ENTRIES.alias.location, versions: [{ version: '3.1.0', status: 'affected' }] }])
  })

  it('moderate maps to medium', () => {
    const evidence = new Map<string, PackageEvidence>([[ENTRIES.plain.location, {
      integritySource: 'network', scripts: [],
      advisories: [{ id: 'X-1', title: 't', severity: 'moderate', malware: false, source: 'registry' }],
    }]])
    const { doc } = render({ evidence })
    expect(doc.vulnerabilities[0].ratings[0].severity).toBe('medium')
  })
})

describe('remote tarballs', () => {
  it('get a download_url qualifier and a distribution reference', () => {
    const url = 'https://example.com/files/thing-1.0.0.tgz'
    const remote = { ...ENTRIES.plain, location: 'node_modules/thing', name: 'thing', installName: 'thing', source: 'remote' as const, resolved: url }
    const plan = makePlan()
    const { doc } = render({ plan: { ...plan, entries: [...plan.entries, remote] } })
    const c = componentAt(doc, 'node_modules/thing')
    expect(c.purl).toBe('pkg:npm/thing@1.2.3?download_url=https:%2F%2Fexample.com%2Ffiles%2Fthing-1.0.0.tgz')
    expect(c.externalReferences).toEqual([expect.objectContaining({ type: 'distribution', url })])
    expect(prop(c, 'safe-install:signature:reason')).toBe('not a registry package (source=remote)')
  })
})

describe('npmPurl', () => {
  it('encodes scope, name and version', () => {
    expect(npmPurl('@a/b', '1.0.0')).toBe('pkg:npm/%40a/b@1.0.0')
    expect(npmPurl('x', undefined)).toBe('pkg:npm/x')
    expect(npmPurl('x', '1.0.0', { z: 'b c', a: undefined, download_url: 'https://h/x.tgz' }))
      .toBe('pkg:npm/x@1.0.0?download_url=https:%2F%2Fh%2Fx.tgz&z=b%20c')
  })
})

describe('determinism', () => {
  it('same input gives the same document apart from the serial number', () => {
    const a = render().doc
    const b = render().doc
    delete a.serialNumber
    delete b.serialNumber
    expect(a).toEqual(b)
  })
})
