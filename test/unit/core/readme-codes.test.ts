// The README's error table is the user's reference: every code, with its exit code.
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../../lib/errors.js'

const readme = fs.readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')

describe('README error table', () => {
  it.each(Object.entries(ERROR_CODES))('documents %s with its exit code', (code, info) => {
    expect(readme).toContain(`| \`${code}\` | ${info.exit} | ${info.summary} |`)
  })
})
