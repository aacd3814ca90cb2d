#!/usr/bin/env node
// safe-install: a hardened npm ci / npm install. See README.md.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('safe-install is not built: run `npm run build` in its folder first\n')
  process.exit(70)
}
const { main } = await import(entry.href)
process.exitCode = await main(process.argv.slice(2))
