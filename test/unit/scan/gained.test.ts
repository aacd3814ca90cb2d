import { describe, expect, it } from 'vitest'
import { capabilitiesGained } from '../../../lib/evidence/scan/gained.js'

describe('capabilitiesGained', () => {
  const previous = new Map([
    ['a', ['env']],
    ['b', ['network', 'env']],
    ['c', []],
    ['gone', ['eval']],
  ])
  const current = new Map([
    ['b', ['env']],
    ['a', ['env', 'child_process', 'network', 'child_process']],
    ['c', ['install-scripts']],
    ['new', ['native']],
  ])

  it('lists what each package has now and did not have, by name', () => {
    expect(capabilitiesGained(previous, current)).toEqual([
      { name: 'a', gained: ['child_process', 'network'] },
      { name: 'c', gained: ['install-scripts'] },
    ])
  })

  it('new packages only with includeNew', () => {
    expect(capabilitiesGained(previous, current, { includeNew: true }).map(g => g.name)).toEqual(['a', 'c', 'new'])
  })

  it('nothing gained, nothing listed', () => {
    expect(capabilitiesGained(current, current)).toEqual([])
    expect(capabilitiesGained(new Map(), new Map())).toEqual([])
  })
})
