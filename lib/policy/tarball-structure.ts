// SCVS 4.18: a tarball's contents stay inside its package folder, links
// point inside it, and bin entries stay in node_modules/.bin. Pure.
import path from 'node:path/posix'
import type { TarEntry, Violation } from '../types.js'

function escapes (p: string): boolean {
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p) || p.includes('\\')) return true
  const norm = path.normalize(p)
  return norm === '..' || norm.startsWith('../')
}

export function checkTarballStructure (pkg: string, location: string, files: readonly TarEntry[]): Violation[] {
  const out: Violation[] = []
  for (const f of files) {
    if (escapes(f.path) || f.path.split('/').includes('..')) {
      out.push({
        code: 'ESITARPATH',
        message: `${pkg} contains "${f.path}", which would be written outside its package folder`,
        package: pkg,
        path: location,
        fix: 'do not install this version; report it to the package maintainers and the registry',
      })
      continue
    }
    if ((f.type === 'symlink' || f.type === 'link') && f.linkpath !== undefined) {
      // a symlink resolves from its own folder; a hard link from the package root
      const target = f.type === 'symlink' ? path.join(path.dirname(f.path), f.linkpath) : f.linkpath
      if (f.linkpath.startsWith('/') || escapes(target)) {
        out.push({
          code: 'ESITARLINK',
          message: `${pkg} contains a ${f.type === 'symlink' ? 'symbolic' : 'hard'} link "${f.path}" -> "${f.linkpath}" pointing outside its package folder`,
          package: pkg,
          path: location,
          fix: 'do not install this version; report it to the package maintainers and the registry',
        })
      }
    }
  }
  return out
}

/** bin names become files in node_modules/.bin; targets must be inside the package. */
export function checkBins (pkg: string, location: string, manifest: Readonly<Record<string, any>>): Violation[] {
  const out: Violation[] = []
  const bin = manifest.bin
  const entries: [string, unknown][] = typeof bin === 'string'
    ? [[String(manifest.name ?? '').split('/').pop() ?? '', bin]]
    : bin && typeof bin === 'object' ? Object.entries(bin) : []
  for (const [name, target] of entries) {
    const badName = !name || name.includes('/') || name.includes('\\') || name === '.' || name === '..' || name.includes('\0')
    const badTarget = typeof target !== 'string' || escapes(target) || target.includes('\0')
    if (badName || badTarget) {
      out.push({
        code: 'ESIBINPATH',
        message: badName
          ? `${pkg} declares a bin named "${name}", which would be linked outside node_modules/.bin`
          : `${pkg} declares bin "${name}" -> "${String(target)}", which points outside the package`,
        package: pkg,
        path: location,
        fix: 'do not install this version; report it to the package maintainers',
      })
    }
  }
  const binDir = manifest.directories?.bin
  if (typeof binDir === 'string' && escapes(binDir)) {
    out.push({ code: 'ESIBINPATH', message: `${pkg} declares directories.bin "${binDir}" outside the package`, package: pkg, path: location })
  }
  return out
}
