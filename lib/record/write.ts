// Writing and reading the install record. A record is written atomically: a
// temp file in the same folder, fsync, rename over the old one, fsync the
// folder. A failed write leaves the previous record as it was.
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

import type { RecordDocument } from './document.js'

export type { RecordComponent, RecordDocument, RecordProperty } from './document.js'

/** Where the record lives by default, under the project folder. */
export function defaultRecordPath (prefix: string): string {
  return join(prefix, 'node_modules', '.safe-install', 'record.cdx.json')
}

/** A temp file name next to `path`; `.<name>.<pid>.<random>.tmp`. */
function tempPathFor (path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
}

/** Whether a file name is one of our temp files for `name` (used by tests and cleanup). */
export function isRecordTempFile (fileName: string, name = 'record.cdx.json'): boolean {
  return fileName.startsWith(`.${name}.`) && fileName.endsWith('.tmp')
}

async function fsyncDir (dir: string): Promise<void> {
  // makes the rename durable; not supported everywhere (e.g. Windows): best effort
  let handle
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch {
    /* best effort */
  } finally {
    await handle?.close().catch(() => {})
  }
}

/**
 * Write `json` (a string, or a value to stringify) to `path` atomically,
 * creating the folder if needed.
 */
export async function writeRecordAtomic (path: string, json: string | readonly Uint8Array[] | object): Promise<void> {
  // text, UTF-8 bytes in parts written as they are, or a document to serialize
  const text = typeof json === 'string' || Array.isArray(json) ? json : `${JSON.stringify(json, null, 2)}\n`
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const tmp = tempPathFor(path)
  let written = false
  try {
    const handle = await open(tmp, 'wx', 0o644)
    try {
      if (typeof text === 'string') await handle.writeFile(text, 'utf8')
      else await writeAll(handle, text)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, path)
    written = true
  } finally {
    if (!written) await unlink(tmp).catch(() => {})
  }
  await fsyncDir(dir)
}

/**
 * Read a record. `undefined` when there is none; throws when the file exists
 * but is not a CycloneDX JSON document.
 */
export async function readRecord (path: string): Promise<RecordDocument | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  return parseRecord(text, path)
}

/** Every byte of the parts, in order (writev takes at most IOV_MAX buffers, and may write less than asked). */
async function writeAll (handle: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  const IOV = 1024
  for (let i = 0; i < parts.length; i += IOV) {
    let batch = parts.slice(i, i + IOV).filter(p => p.byteLength > 0)
    while (batch.length) {
      let { bytesWritten } = await handle.writev(batch)
      while (batch.length && bytesWritten >= batch[0].byteLength) bytesWritten -= batch.shift()!.byteLength
      if (batch.length && bytesWritten > 0) batch[0] = batch[0].subarray(bytesWritten)
    }
  }
}

/** A record's text as a document; throws when it is not CycloneDX JSON (`what` names it in the message). */
export function parseRecord (text: string, what: string): RecordDocument {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new Error(`${what} is not valid JSON`, { cause: err })
  }
  if (!doc || typeof doc !== 'object' || (doc as { bomFormat?: unknown }).bomFormat !== 'CycloneDX') {
    throw new Error(`${what} is not a CycloneDX document`)
  }
  return doc as RecordDocument
}
