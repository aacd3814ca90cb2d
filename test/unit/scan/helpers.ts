import type { TarEntry } from '../../../lib/types.js'
import type { ScanInput } from '../../../lib/evidence/scan/capabilities.js'

/** An in-memory package: path -> contents (string or bytes). */
export function pkg (contents: Record<string, string | Uint8Array>, manifest: Record<string, any> = { name: 'p', version: '1.0.0' }): ScanInput {
  const all: Record<string, string | Uint8Array> = { 'package.json': JSON.stringify(manifest), ...contents }
  const files: TarEntry[] = Object.entries(all).map(([path, c]) => ({
    path,
    type: 'file',
    size: typeof c === 'string' ? Buffer.byteLength(c) : c.length,
    mode: 0o644,
  }))
  return {
    manifest,
    files,
    readFile: (p: string) => {
      const c = all[p]
      if (c === undefined) return undefined
      return typeof c === 'string' ? Buffer.from(c) : Buffer.from(c)
    },
  }
}

export function caps (r: { capabilities: readonly string[] }): string[] {
  return [...r.capabilities]
}
