// Reading install records (CycloneDX JSON) in integration tests.
import fs from 'node:fs'
import path from 'node:path'
import { Spec, Validation } from '@cyclonedx/cyclonedx-library'
import { expect } from 'vitest'

export type Json = Record<string, any>

export const validators = {
  '1.6': new Validation.JsonStrictValidator(Spec.Version.v1dot6),
  '1.7': new Validation.JsonStrictValidator(Spec.Version.v1dot7),
} as const

export function recordPath (projectDir: string): string {
  return path.join(projectDir, 'node_modules', '.safe-install', 'record.cdx.json')
}

export function readRecord (file: string): { text: string, doc: Json } {
  const text = fs.readFileSync(file, 'utf8')
  return { text, doc: JSON.parse(text) }
}

/** property name -> all its values */
export function props (c: Json): Map<string, string[]> {
  const m = new Map<string, string[]>()
  for (const p of c.properties ?? []) m.set(p.name, [...(m.get(p.name) ?? []), p.value])
  return m
}

export const prop = (c: Json, name: string): string | undefined => props(c).get(name)?.[0]

/** every component of the record, nested ones included */
export function allComponents (doc: Json): Json[] {
  const out: Json[] = []
  const visit = (list: Json[] | undefined) => { for (const c of list ?? []) { out.push(c); visit(c.components) } }
  visit(doc.components)
  return out
}

/** the one component recorded at a lockfile location */
export function componentAt (doc: Json, location: string): Json {
  const found = allComponents(doc).filter(c => prop(c, 'cdx:npm:package:path') === location)
  expect(found, `components at ${location}`).toHaveLength(1)
  return found[0]!
}

/** SRI sha512 -> hex, as CycloneDX hashes carry it */
export function sha512Hex (integrity: string): string {
  const sri = integrity.split(/\s+/).find(s => s.startsWith('sha512-'))
  if (!sri) throw new Error(`no sha512 in ${integrity}`)
  return Buffer.from(sri.slice('sha512-'.length), 'base64').toString('hex')
}

export async function expectValid (text: string, spec: '1.6' | '1.7'): Promise<void> {
  expect(JSON.parse(text).specVersion).toBe(spec)
  expect(await validators[spec].validate(text)).toBeNull()
}
