import { describe, expect, it } from 'vitest'
import { lifecycleScripts, scriptNames } from '../../../lib/rebuild/scripts.js'

describe('lifecycleScripts', () => {
  it('lists preinstall/install/postinstall in order', () => {
    expect(lifecycleScripts({ scripts: { postinstall: 'node p.js', preinstall: 'node a.js', install: 'node i.js', test: 'x' } }, []))
      .toEqual([
        { event: 'preinstall', cmd: 'node a.js' },
        { event: 'install', cmd: 'node i.js' },
        { event: 'postinstall', cmd: 'node p.js' },
      ])
  })

  it('none when no scripts', () => {
    expect(lifecycleScripts({ name: 'x' }, ['index.js'])).toEqual([])
    expect(lifecycleScripts(undefined, [])).toEqual([])
    expect(lifecycleScripts({ scripts: { install: '  ' } }, [])).toEqual([])
  })

  it('implicit node-gyp rebuild when binding.gyp exists and no install/preinstall', () => {
    expect(lifecycleScripts({ scripts: { postinstall: 'x' } }, ['binding.gyp', 'src/a.cc']))
      .toEqual([{ event: 'install', cmd: 'node-gyp rebuild', implicit: true }, { event: 'postinstall', cmd: 'x' }])
    expect(lifecycleScripts({}, [{ path: 'binding.gyp', type: 'file' }])).toEqual([{ event: 'install', cmd: 'node-gyp rebuild', implicit: true }])
    expect(lifecycleScripts({}, p => p === 'binding.gyp')).toHaveLength(1)
    // not nested, not when opted out, not with an install or preinstall script
    expect(lifecycleScripts({}, ['deps/binding.gyp'])).toEqual([])
    expect(lifecycleScripts({ gypfile: false }, ['binding.gyp'])).toEqual([])
    expect(lifecycleScripts({ scripts: { install: 'prebuild-install || node-gyp rebuild' } }, ['binding.gyp']))
      .toEqual([{ event: 'install', cmd: 'prebuild-install || node-gyp rebuild' }])
    expect(lifecycleScripts({ scripts: { preinstall: 'x' } }, ['binding.gyp'])).toEqual([{ event: 'preinstall', cmd: 'x' }])
  })

  it('prepare only for non-registry sources', () => {
    const m = { scripts: { prepare: 'tsc' } }
    expect(lifecycleScripts(m, [])).toEqual([])
    expect(lifecycleScripts(m, [], { source: 'registry' })).toEqual([])
    expect(lifecycleScripts(m, [], { source: 'git' })).toEqual([{ event: 'prepare', cmd: 'tsc' }])
    expect(lifecycleScripts(m, [], { source: 'directory' })).toEqual([{ event: 'prepare', cmd: 'tsc' }])
  })

  it('names for evidence', () => {
    expect(scriptNames(lifecycleScripts({ scripts: { postinstall: 'x' } }, ['binding.gyp']))).toEqual(['install (node-gyp rebuild)', 'postinstall'])
  })
})
