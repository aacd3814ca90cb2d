// Whether a process that left a lock, a staged tree or a half-built store
// entry behind is still running (its leftovers are then not ours to clear).

/** True while `pid` runs (EPERM: it runs as another user). */
export function processAlive (pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
