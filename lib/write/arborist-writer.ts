// Writer v1: Arborist's reify, run offline against safe-install's verified
// store only (so nothing unverified can be extracted), with scripts off,
// inside a swap: the previous node_modules folders are moved aside first and
// put back if anything fails, even after a crash (see recover()).
import fs from 'node:fs/promises'
import path from 'node:path'
import { SafeInstallError } from '../errors.js'
import type { Options } from '../options.js'
import type { TreeWriter, WriteInput } from './writer.js'

const PREVIOUS = '.safe-install-previous-node_modules'
const JOURNAL = '.safe-install-swap.json'

async function exists (p: string): Promise<boolean> {
  return fs.lstat(p).then(() => true, () => false)
}

/** Folders whose node_modules the install rewrites: the root and each workspace. */
function nodeModulesDirs (input: WriteInput): string[] {
  const root = input.options.prefix
  return [root, ...input.loaded.plan.workspaces.map(w => path.resolve(root, w.location))]
}

export class ArboristWriter implements TreeWriter {
  async recover (options: Options): Promise<string[]> {
    const journalFile = path.join(options.prefix, JOURNAL)
    const done: string[] = []
    let dirs: string[] = [options.prefix]
    let rollback = false
    try {
      dirs = JSON.parse(await fs.readFile(journalFile, 'utf8')).dirs
      rollback = true
    } catch {}
    for (const dir of dirs) {
      const prev = path.join(dir, PREVIOUS)
      if (!(await exists(prev))) continue
      if (rollback) {
        // interrupted before the commit point: the old tree is the good one
        await fs.rm(path.join(dir, 'node_modules'), { recursive: true, force: true })
        await fs.rename(prev, path.join(dir, 'node_modules'))
        done.push(`restored ${path.join(dir, 'node_modules')} after an interrupted install`)
      } else {
        await fs.rm(prev, { recursive: true, force: true })
      }
    }
    await fs.rm(journalFile, { force: true })
    return done
  }

  async write (input: WriteInput): Promise<void> {
    const { options, loaded, verified, paths } = input
    const arb = loaded.arborist
    const tree = arb.idealTree

    // Every node reify will extract must be one we verified, and it must be
    // found in the store by digest: give it the URL we verified.
    for (const node of tree.inventory.values()) {
      if (node.isProjectRoot || node.isLink || node.inBundle || node.inert) continue
      const pkg = verified.get(node.location)
      if (!pkg) continue // omitted (dev/optional/peer) or outside the selected workspaces
      if (!node.resolved) node.resolved = pkg.tarballUrl
    }

    const journalFile = path.join(options.prefix, JOURNAL)
    const dirs = nodeModulesDirs(input)
    const moved: string[] = []
    await fs.writeFile(journalFile, JSON.stringify({ dirs }))
    try {
      for (const dir of dirs) {
        const nm = path.join(dir, 'node_modules')
        if (await exists(nm)) {
          await fs.rename(nm, path.join(dir, PREVIOUS))
          moved.push(dir)
        }
      }
      Object.assign(arb.options, {
        cache: paths.store,
        offline: true,
        preferOnline: false,
        ignoreScripts: true,
        save: input.save,
        packageLock: true,
        audit: false,
        fund: false,
        dryRun: false,
      })
      arb.cache = paths.store
      arb.actualTree = null
      await arb.reify({ ...arb.options, save: input.save })
    } catch (err) {
      for (const dir of dirs) await fs.rm(path.join(dir, 'node_modules'), { recursive: true, force: true }).catch(() => {})
      for (const dir of moved) await fs.rename(path.join(dir, PREVIOUS), path.join(dir, 'node_modules')).catch(() => {})
      await fs.rm(journalFile, { force: true })
      const e = err as any
      throw new SafeInstallError('ESIWRITE', `writing node_modules failed (${e.code ?? 'error'}: ${String(e.message).split('\n')[0]}); the previous tree was restored`, {
        cause: err,
        fix: e.code === 'ENOSPC' ? 'free disk space and run again' : 'run again; if it persists, report it with --loglevel verbose output',
      })
    }
    // commit point: from here on the new tree is the one to keep
    await fs.rm(journalFile, { force: true })
    await Promise.all(moved.map(dir => fs.rm(path.join(dir, PREVIOUS), { recursive: true, force: true })))
  }
}
