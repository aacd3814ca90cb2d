// Native code: compiled add-ons and executables, by name and by magic bytes.

/** The kind of native binary `bytes` starts with, if any. */
export function binaryKind (bytes: Uint8Array): string | undefined {
  if (bytes.length < 4) return undefined
  const b0 = bytes[0]
  const b1 = bytes[1]
  const b2 = bytes[2]
  const b3 = bytes[3]
  if (b0 === 0x7f && b1 === 0x45 && b2 === 0x4c && b3 === 0x46) return 'ELF binary'
  // Mach-O, 32/64-bit, either byte order
  if (b0 === 0xfe && b1 === 0xed && b2 === 0xfa && (b3 === 0xce || b3 === 0xcf)) return 'Mach-O binary'
  if ((b0 === 0xce || b0 === 0xcf) && b1 === 0xfa && b2 === 0xed && b3 === 0xfe) return 'Mach-O binary'
  // universal (fat) Mach-O shares 0xCAFEBABE with Java classes: a fat header's
  // next word is a small architecture count, a class file's is its version (>= 45)
  if (b0 === 0xca && b1 === 0xfe && b2 === 0xba && b3 === 0xbe) {
    if (bytes.length < 8) return 'Mach-O universal binary'
    const next = ((bytes[4] << 24) | (bytes[5] << 16) | (bytes[6] << 8) | bytes[7]) >>> 0
    return next > 0 && next < 30 ? 'Mach-O universal binary' : undefined
  }
  // PE: "MZ" and, at e_lfanew, "PE\0\0"
  if (b0 === 0x4d && b1 === 0x5a && bytes.length >= 0x40) {
    const off = (bytes[0x3c] | (bytes[0x3d] << 8) | (bytes[0x3e] << 16) | (bytes[0x3f] << 24)) >>> 0
    if (off + 4 <= bytes.length && bytes[off] === 0x50 && bytes[off + 1] === 0x45 && bytes[off + 2] === 0 && bytes[off + 3] === 0) {
      return 'PE binary'
    }
  }
  return undefined
}

/** names that are native code whatever their bytes (or when the bytes are not kept) */
const NATIVE_NAME = /\.(?:node|so(?:\.\d+)*|dylib|dll|exe)$/i

/** A description when the file name alone says native code; `.node` add-ons always do. */
export function nativeByName (path: string): string | undefined {
  const m = NATIVE_NAME.exec(path)
  if (!m) return undefined
  return m[0].toLowerCase() === '.node' ? 'native add-on (.node)' : `native library (${m[0].toLowerCase()})`
}

/**
 * Extensions of files that are never looked at for magic bytes: source, text,
 * data and media, which are the bulk of every package.
 */
const NOT_BINARY = new Set([
  'js', 'cjs', 'mjs', 'jsx', 'ts', 'cts', 'mts', 'tsx', 'json', 'jsonc', 'json5', 'map', 'md', 'markdown', 'mdx', 'txt',
  'css', 'scss', 'sass', 'less', 'styl', 'html', 'htm', 'xml', 'svg', 'yml', 'yaml', 'toml', 'ini', 'flow', 'coffee',
  'vue', 'svelte', 'astro', 'hbs', 'ejs', 'pug', 'tpl', 'gyp', 'gypi', 'c', 'cc', 'cpp', 'cxx', 'h', 'hh', 'hpp', 'hxx', 'py',
  'sh', 'bat', 'cmd', 'ps1', 'rs', 'go', 'java', 'rb', 'pl', 'php', 'lock', 'log', 'csv', 'tsv', 'patch', 'diff', 'proto',
  'png', 'jpg', 'jpeg', 'gif', 'ico', 'webp', 'avif', 'bmp', 'woff', 'woff2', 'ttf', 'eot', 'otf',
  'wasm', 'gz', 'tgz', 'zip', 'br', 'zst', 'xz', 'bz2', 'mp3', 'mp4', 'wav', 'ogg', 'pdf',
])

/** whether a file is worth reading for magic bytes (no extension, or an unknown one) */
export function mayBeBinary (path: string): boolean {
  const slash = path.lastIndexOf('/')
  const dot = path.lastIndexOf('.')
  if (dot <= slash + 1) return true // no extension (or a dotfile)
  return !NOT_BINARY.has(path.slice(dot + 1).toLowerCase())
}
