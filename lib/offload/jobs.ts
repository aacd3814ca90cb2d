// What the main thread hands to its side thread (side-thread.ts): the
// install record (building and serializing it with the CycloneDX library,
// or filling in the last one made from the same input; the diff against the
// last one, the fsync'd write), the Sigstore TUF
// targets (loading @sigstore/tuf and asking the TUF repository), the
// extraction of verified tarballs into the content store during a cold run,
// the check of the content store's files before a replayed write links
// them, and a share of the links.
// Each is a few hundred milliseconds of module loading, CPU or system calls
// that the main thread would otherwise spend in line with writing the
// tree. The same functions run inline when no side thread can start:
// results never depend on it.
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import type { SigstoreTargets, SigstoreTargetsOptions, TufTarget } from '../evidence/tuf.js'
import { Budget } from '../fetch/budget.js'
import type { RecordInput, RecordSpecVersion } from '../record/cyclonedx.js'
import type { RecordTemplate } from '../record/template.js'
import type { RecordDiff } from '../record/diff.js'
import type { Linked, SharedJob } from '../write/shared-links.js'
import type { EntriesChecked } from '../write/store.js'

/** A record made (`record:prepare`), then written where and when asked (`record:write`). */
export interface PreparedRecordJob {
  /** names the prepared record between the calls */
  readonly id: number
  /** what the record says (structured-cloneable: plain data, Maps) */
  readonly input: RecordInput
  readonly specVersion: RecordSpecVersion
  /** where the last record made for this project is kept as a template (lib/record/template.ts); none: always built */
  readonly template?: string
}

export interface RecordWriteJob {
  readonly id: number
  /** files to write, each atomically */
  readonly targets: readonly string[]
  /** the text of the record this install replaces, read before the swap: the diff is against it */
  readonly previous?: string | Uint8Array
}

export interface RecordJobResult {
  readonly written: string[]
  readonly diff?: RecordDiff
}

export interface TufTargetJob {
  readonly opts: SigstoreTargetsOptions
  readonly name: string
}

export interface TufTargetsJob {
  readonly opts: SigstoreTargetsOptions
  readonly names: readonly string[]
}

/** Each job kind with its payload and result. */
export interface JobTypes {
  /**
   * load the modules of these jobs now, before the first call needs them, and
   * start asking TUF for the targets the run will ask for (`tuf:target` then
   * gets the same answer, in flight or in hand)
   */
  warm: { payload: { kinds: ReadonlyArray<'record' | 'tuf'>, tuf?: TufTargetsJob, template?: string }, result: void }
  'record:prepare': { payload: PreparedRecordJob, result: void }
  'record:write': { payload: RecordWriteJob, result: RecordJobResult }
  'tuf:target': { payload: TufTargetJob, result: TufTarget | undefined }
  /** the content store's entries checked against their indexes, positions claimed from shared memory (lib/write/store.ts checkClaimedYielding) */
  'store:check': { payload: { root: string, integrities: readonly string[], claim: Int32Array }, result: EntriesChecked }
  /** a share of a replay's hard links, jobs claimed from shared memory (lib/write/shared-links.ts) */
  'store:link': { payload: { jobs: readonly SharedJob[], claim: Int32Array }, result: Linked }
  /** a verified tarball's entry built in the content store (lib/write/store.ts extractEntry) */
  'store:extract': { payload: { root: string, tarballs: string, integrity: string }, result: void }
}

/** Extractions at once: one reads its tarball while another writes files. */
const EXTRACTIONS = 2

export type JobKind = keyof JobTypes
export type Jobs = { [K in JobKind]: (payload: JobTypes[K]['payload']) => Promise<JobTypes[K]['result']> }

// the builder (and the CycloneDX library) only when no kept template fits
const recordBuilder = () => import('../record/cyclonedx.js')
const recordModules = () => Promise.all([import('../record/template.js'), import('../record/diff.js'), import('../record/write.js')])
const tufModule = () => import('../evidence/tuf.js')

interface Prepared {
  /** the record's text, or its UTF-8 bytes in parts (filled in from a template) */
  readonly json: string | readonly Uint8Array[]
  /** the record as a template, when it could be made one */
  readonly template?: RecordTemplate
}

/** A set of job functions with their own state (one TUF client per options). */
export function createJobs (): Jobs {
  const tufs = new Map<string, SigstoreTargets>()
  const prepared = new Map<number, Promise<Prepared>>()
  let maker: string | undefined
  /** the store check in progress, if any */
  let checking: Promise<unknown> = Promise.resolve()
  // jobs arrive as fast as packages are verified: a queue, not a read of every tarball at once
  const extractions = new Budget(EXTRACTIONS)
  const targetsFor = async (opts: SigstoreTargetsOptions): Promise<SigstoreTargets> => {
    const { createSigstoreTargets } = await tufModule()
    const key = JSON.stringify(opts)
    let targets = tufs.get(key)
    if (!targets) tufs.set(key, targets = createSigstoreTargets(opts))
    return targets
  }
  return {
    async warm ({ kinds, tuf, template }) {
      if (tuf) void targetsFor(tuf.opts).then(t => { for (const name of tuf.names) void t.target(name) })
      // the builder too when there is no template to reuse (a first run)
      const builder = template === undefined || !fs.existsSync(template)
      await Promise.all(kinds.map(k => k === 'record' ? Promise.all([recordModules(), builder && recordBuilder()]) : tufModule()))
    },
    async 'record:prepare' ({ id, input, specVersion, template: file }) {
      // after a store check in progress: the write waits on that before it
      // links anything, and on the record only when it swaps
      const made = Promise.all([recordModules(), checking]).then(async ([[t]]): Promise<Prepared> => {
        const timestamp = (input.timestamp ?? new Date()).toISOString()
        const key = file === undefined ? undefined : t.recordKey(input, specVersion, maker ??= t.recordMaker())
        const kept = file === undefined ? undefined : t.readTemplate(file)
        const ages = t.agesOf(input)
        const json = kept && kept.key === key ? t.fillTemplate(kept, { serialNumber: `urn:uuid:${randomUUID()}`, timestamp, ages }) : undefined
        if (json !== undefined) return { json, template: kept }
        const { buildRecord, serializeRecord } = await recordBuilder()
        const bom = buildRecord({ ...input, timestamp: new Date(timestamp) })
        const made = serializeRecord(bom, specVersion)
        const template = key === undefined ? undefined : t.templateOf(key, made, { serialNumber: bom.serialNumber ?? '', timestamp, ages })
        if (template && file !== undefined) await t.writeTemplate(file, template)
        return { json: made, template }
      })
      made.catch(() => {}) // reported by record:write
      prepared.set(id, made)
    },
    // a prepared record may be written more than once (into the staged tree,
    // then to --record files after the swap); it lives as long as the jobs
    async 'record:write' ({ id, targets, previous }) {
      const pending = prepared.get(id)
      if (!pending) throw new Error(`no record was prepared as ${id}`)
      const [{ json, template }, [{ sameDocument }, { diffRecords, noChanges }, { parseRecord, writeRecordAtomic }]] = await Promise.all([pending, recordModules()])
      let diff: RecordDiff | undefined
      if (previous !== undefined && template && sameDocument(template, previous)) {
        // the same document made at another time: nothing to parse to know that nothing changed
        diff = noChanges()
      } else if (previous !== undefined) {
        // an unreadable earlier record is no reason to fail: there is just no diff
        const text = (t: string | Uint8Array | readonly Uint8Array[]) => typeof t === 'string' ? t : Buffer.concat(Array.isArray(t) ? t : [t as Uint8Array]).toString('utf8')
        const before = (() => { try { return parseRecord(text(previous), 'the previous record') } catch { return undefined } })()
        if (before) diff = diffRecords(before, JSON.parse(text(json)))
      }
      const written: string[] = []
      for (const target of targets) {
        await writeRecordAtomic(target, json)
        written.push(target)
      }
      return { written, diff }
    },
    async 'store:check' ({ root, integrities, claim }) {
      const { checkClaimedYielding } = await import('../write/store.js')
      const check = checkClaimedYielding(root, integrities, claim)
      checking = check.catch(() => {})
      return check
    },
    async 'store:link' ({ jobs, claim }) {
      const { linkClaimedYielding } = await import('../write/shared-links.js')
      return linkClaimedYielding(jobs, claim)
    },
    async 'store:extract' ({ root, tarballs, integrity }) {
      const done = await extractions.acquire(1)
      try {
        const { extractEntry } = await import('../write/store.js')
        await extractEntry(root, tarballs, integrity)
      } finally {
        done()
      }
    },
    async 'tuf:target' ({ opts, name }) {
      return (await targetsFor(opts)).target(name)
    },
  }
}
