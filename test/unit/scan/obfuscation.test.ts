import { describe, expect, it } from 'vitest'
import { findBlob, hexEscapedText, shannonEntropy, LONG_STRING } from '../../../lib/evidence/scan/obfuscation.js'

/** the rule findBlob implements, the slow way */
function naiveBlob (text: string): number | undefined {
  for (const m of text.matchAll(/[A-Za-z0-9+/=_-]{201,}/g)) {
    const before = text.slice(Math.max(0, m.index - 80), m.index)
    if (/data:(?:image|font)/.test(before) || before.includes('sourceMappingURL')) continue
    if (shannonEntropy(m[0]) > 5) return m.index
  }
  return undefined
}

describe('shannonEntropy', () => {
  it('measures bits per character', () => {
    expect(shannonEntropy('')).toBe(0)
    expect(shannonEntropy('aaaa')).toBe(0)
    expect(shannonEntropy('abab')).toBe(1)
    expect(shannonEntropy('0123456789abcdef')).toBe(4)
    expect(shannonEntropy('ααββ')).toBe(1)
  })
})

describe('findBlob', () => {
  it('agrees with the naive rule on random texts, whatever the run lengths and positions', () => {
    let seed = 42
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
    for (let t = 0; t < 300; t++) {
      let text = ''
      const parts = 1 + rnd(6)
      for (let p = 0; p < parts; p++) {
        text += ' ;('.charAt(rnd(3)).repeat(1 + rnd(3))
        const len = [5, 150, 199, 200, 201, 202, 250, 403][rnd(8)]
        const low = rnd(3) === 0 // low entropy run
        for (let i = 0; i < len; i++) text += low ? 'ab'.charAt(rnd(2)) : alphabet.charAt(rnd(64))
      }
      expect(findBlob(text)?.index, text).toBe(naiveBlob(text))
    }
  })

  it('finds a run exactly at the threshold boundary and at the ends', () => {
    const rnd = 'Zq9+Xw3/Lm7Pa2Rt5Vb8Nc4Kd6Hf1Jg0Ys'
    const run = (n: number) => Array.from({ length: n }, (_, i) => rnd[(i * 7 + (i >> 3)) % rnd.length]).join('')
    expect(findBlob(run(LONG_STRING))).toBeUndefined()
    expect(findBlob(run(LONG_STRING + 1))).toMatchObject({ index: 0, length: LONG_STRING + 1 })
    expect(findBlob(`x = "${run(LONG_STRING + 1)}"`)).toMatchObject({ index: 5 })
  })
})

describe('hexEscapedText', () => {
  it('finds runs of escapes that spell text', () => {
    expect(hexEscapedText('"\\x72\\x65\\x71\\x75\\x69\\x72\\x65\\x28"')).toBe(1)
    expect(hexEscapedText('"\\u0072\\u0065\\u0071\\u0075\\u0069\\u0072\\u0065\\u0028"')).toBe(1)
    expect(hexEscapedText('"\\x72\\x65\\x71"')).toBe(-1)
    expect(hexEscapedText('/[\\x00-\\x1f\\x7f]/')).toBe(-1)
  })
})
