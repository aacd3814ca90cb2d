// `safe-install rebuild`: placeholder until wired (see lib/rebuild).
import type { Io } from './main.js'
export async function runRebuildCommand (_argv: string[], _args: Record<string, any>, io: Io): Promise<number> {
  io.stderr('rebuild: not wired yet')
  return 2
}
