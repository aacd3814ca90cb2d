// One safe-install at a time per project: an atomic mkdir holds the lock;
// a lock whose process is gone is taken over. Others wait, then give up
// with ESIBUSY.
import fs from 'node:fs/promises'
import path from 'node:path'
import { SafeInstallError } from '../errors.js'

export interface ProjectLock { release (): Promise<void> }

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

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
    if (pid && !alive(pid)) {
      // its owner died (killed, power loss): take it over
      await fs.rm(dir, { recursive: true, force: true })
      continue
    }
    if (!pid) {
      // being created right now, or left empty by a crash between mkdir and write
      const st = await fs.stat(dir).catch(() => undefined)
      if (st && Date.now() - st.mtimeMs > 10_000) { await fs.rm(dir, { recursive: true, force: true }); continue }
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
