// `safe-install diff <old> <new>`: compare two install records.
import { SafeInstallError } from '../errors.js'
import { diffRecords, formatDiff } from '../record/diff.js'
import { readRecord } from '../record/write.js'
import type { Io } from './main.js'

export async function runDiffCommand (args: Record<string, any>, io: Io): Promise<number> {
  const load = async (p: string) => {
    const doc = await readRecord(p).catch((err: Error) => {
      throw new SafeInstallError('ESIBADJSON', `${p} is not a readable record: ${err.message}`, { path: p })
    })
    if (!doc) throw new SafeInstallError('ESIUSAGE', `no record at ${p}`, { path: p })
    return doc
  }
  const diff = diffRecords(await load(args.old), await load(args.new))
  io.stdout(args.json ? JSON.stringify(diff, null, 2) : formatDiff(diff))
  return 0
}
