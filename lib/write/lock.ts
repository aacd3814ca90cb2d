// One safe-install at a time per project: an atomic mkdir holds the lock;
// a lock whose process is gone is taken over. Others wait, then give up
// with ESIBUSY.
import fs from 'node:fs/promises'
import path from 'node:path'
import { SafeInstallError } from '../errors.js'
import { processAlive } from './alive.js'

export interface ProjectLock { release (): Promise<void> }

export function lockPath (prefix: string): string {
  return path.join(prefix, '.safe-install.lock')
}

export async function acquireLock (prefix: string, opts: { waitMs?: number, onWait?: (pid: number) => void } = {}): Promise<ProjectLock> {
  const dir = lockPath(prefix)
  const deadline = Date.now() + (opts.waitMs ?? 5 * 60_000)
  let told = false
  for (;;) {
    try {
      await fs.mkdir(dir)
      await fs.writeFile(path.join(dir, 'pid'), String(process.pid))
      return { release: () => fs.rm(dir, { recursive: true, force: true }) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const pid = Number(await fs.readFile(path.join(dir, 'pid'), 'utf8').catch(() => ''))
    if (pid && !processAlive(pid)) {
      // its owner died (killed, power loss): take it over
      await takeOver(dir, current => current === String(pid))
      continue
    }
    if (!pid) {
      // being created right now, or left empty by a crash between mkdir and write
      const st = await fs.stat(dir).catch(() => undefined)
      if (st && Date.now() - st.mtimeMs > 10_000) { await takeOver(dir, current => current === ''); continue }
    }
    if (Date.now() > deadline) {
      throw new SafeInstallError('ESIBUSY', `another safe-install (pid ${pid || '?'}) is installing in ${prefix}`, {
        fix: `wait for it to finish; if no such process runs, remove ${dir}`,
      })
    }
    if (!told && pid) { opts.onWait?.(pid); told = true }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/**
 * Removes a stale lock, but only while holding a second lock of its own and
 * only if the lock still names the same dead owner: two waiters that saw the
 * same dead pid must not remove the lock one of them has just taken.
 */
async function takeOver (dir: string, stillStale: (pid: string) => boolean): Promise<void> {
  const guard = dir + '.takeover'
  try {
    await fs.mkdir(guard)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    // someone else is taking over; a guard left by a crash is cleared when old
    const st = await fs.stat(guard).catch(() => undefined)
    if (st && Date.now() - st.mtimeMs > 10_000) await fs.rm(guard, { recursive: true, force: true })
    await new Promise(resolve => setTimeout(resolve, 20))
    return
  }
  try {
    const current = await fs.readFile(path.join(dir, 'pid'), 'utf8').catch((e: NodeJS.ErrnoException) => e.code === 'ENOENT' ? '' : undefined)
    const exists = await fs.stat(dir).then(() => true, () => false)
    if (exists && current !== undefined && stillStale(current)) await fs.rm(dir, { recursive: true, force: true })
  } finally {
    await fs.rm(guard, { recursive: true, force: true })
  }
}
