// Writer v1, kept as the reference the tests hold MaterializeWriter to (same
// files, links, bins, lockfiles): Arborist's reify, run offline against safe-install's verified
// store only (so nothing unverified can be extracted), with scripts off,
// inside a swap: the previous node_modules folders are moved aside first and
// put back if anything fails, even after a crash (see recover()).
import path from 'node:path'
import { SafeInstallError } from '../errors.js'
import type { Options } from '../options.js'
import { recoverSwap, StagedSwap } from './swap.js'
import type { TreeWriter, WriteInput } from './writer.js'

/** Folders whose node_modules the install rewrites: the root and each workspace. */
function nodeModulesDirs (input: WriteInput): string[] {
  const root = input.options.prefix
  return [root, ...input.loaded.plan.workspaces.map(w => path.resolve(root, w.location))]
}

export class ArboristWriter implements TreeWriter {
  async recover (options: Options): Promise<string[]> {
    return recoverSwap(options.prefix)
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

    const swap = new StagedSwap(options.prefix, nodeModulesDirs(input))
    try {
      await swap.begin()
      await swap.moveAside()
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
      await swap.rollback().catch(() => {})
      const e = err as any
      throw new SafeInstallError('ESIWRITE', `writing node_modules failed (${e.code ?? 'error'}: ${String(e.message).split('\n')[0]}); the previous tree was restored`, {
        cause: err,
        fix: e.code === 'ENOSPC' ? 'free disk space and run again' : 'run again; if it persists, report it with --loglevel verbose output',
      })
    }
    // commit point: from here on the new tree is the one to keep
    await swap.commit()
    await swap.cleanup()
  }
}
