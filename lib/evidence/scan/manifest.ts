// What package.json declares: lifecycle scripts that run at install time, and
// bin entries that land on the PATH.
import { posix } from 'node:path'
import type { SourceType, TarEntry } from '../../types.js'
import { clip, type Finding } from './findings.js'

/** scripts npm runs when a package is installed (prepare: for git and local installs) */
export const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'] as const

/**
 * npm runs `prepare` only when it builds a package from source (git,
 * directory, link), never for a registry or tarball install: counting it for
 * those would flag every package that builds itself before publishing.
 * Unknown source: counted.
 */
function runsPrepare (source: SourceType | undefined): boolean {
  return source === undefined || source === 'git' || source === 'directory' || source === 'link'
}

type ManifestFinding = Omit<Finding, 'capability'> & { capability: 'install-scripts' | 'bin' }

/**
 * Declared install scripts, plus npm's implicit `install: node-gyp rebuild`
 * when the package has a top-level binding.gyp and neither install nor
 * preinstall script (and does not say `gypfile: false`).
 */
export function installScripts (manifest: Readonly<Record<string, any>>, files: readonly TarEntry[], source?: SourceType): ManifestFinding[] {
  const out: ManifestFinding[] = []
  const scripts = isObject(manifest.scripts) ? manifest.scripts : {}
  for (const name of INSTALL_SCRIPTS) {
    if (name === 'prepare' && !runsPrepare(source)) continue
    const s = scripts[name]
    if (typeof s === 'string' && s.trim() !== '') {
      out.push({ capability: 'install-scripts', file: 'package.json', detail: `${name}: ${clip(s)}` })
    }
  }
  const declares = (name: string): boolean => typeof scripts[name] === 'string' && scripts[name].trim() !== ''
  if (!declares('install') && !declares('preinstall') && manifest.gypfile !== false &&
    files.some(f => f.type === 'file' && f.path === 'binding.gyp')) {
    out.push({ capability: 'install-scripts', file: 'binding.gyp', detail: 'install: node-gyp rebuild (implicit)' })
  }
  return out
}

function isObject (v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** `./bin/x.js` -> `bin/x.js`; undefined for paths escaping the package */
export function normalizePath (p: string): string | undefined {
  const n = posix.normalize(p.replace(/\\/g, '/')).replace(/^(?:\.\/)+/, '').replace(/^\/+/, '')
  if (n === '' || n === '.' || n === '..' || n.startsWith('../')) return undefined
  return n
}

/** The bin entries, as npm links them: name -> path inside the package. */
export function binEntries (manifest: Readonly<Record<string, any>>, files: readonly TarEntry[]): Map<string, string> {
  const bins = new Map<string, string>()
  const bin = manifest.bin
  if (typeof bin === 'string') {
    const name = typeof manifest.name === 'string' ? manifest.name.replace(/^@[^/]+\//, '') : ''
    const p = normalizePath(bin)
    if (name && p) bins.set(name, p)
  } else if (isObject(bin)) {
    for (const [name, target] of Object.entries(bin)) {
      if (typeof target !== 'string') continue
      const p = normalizePath(target)
      if (p) bins.set(name, p)
    }
  } else if (isObject(manifest.directories) && typeof manifest.directories.bin === 'string') {
    // `directories.bin`: every file in that folder is a bin
    const dir = normalizePath(manifest.directories.bin)
    if (dir) {
      for (const f of files) {
        if (f.type === 'file' && f.path.startsWith(`${dir}/`)) bins.set(posix.basename(f.path), f.path)
      }
    }
  }
  return bins
}

export function binFindings (bins: ReadonlyMap<string, string>): ManifestFinding[] {
  return [...bins].map(([name, path]) => ({ capability: 'bin' as const, file: path, detail: clip(name, 80) }))
}
