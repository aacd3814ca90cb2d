// What the HTTP client passes to npm-registry-fetch: the options it reads,
// every credential and scope registry, and the CA bundle as one string.
import { describe, expect, it } from 'vitest'
import { caAsOneString, fetchOptions } from '../../../lib/fetch/client.js'

describe('fetchOptions', () => {
  it('keeps what the fetch stack reads, credentials and scope registries; drops the rest of npm flat config', () => {
    const kept = {
      registry: 'https://r.test/',
      strictSSL: true,
      retry: { retries: 2 },
      timeout: 300000,
      userAgent: 'npm/11',
      httpsProxy: 'http://proxy.test:8080',
      noProxy: 'localhost',
      '//r.test/:_authToken': 'tok',
      '//other.test/path/:certfile': '/c.pem',
      '@acme:registry': 'https://acme.test/',
    }
    expect(fetchOptions({ ...kept, legacyPeerDeps: true, savePrefix: '^', editor: 'vi' })).toEqual(kept)
  })
})

describe('caAsOneString', () => {
  it('joins npm\'s array of PEM certificates into one bundle, and leaves a string or no CA alone', () => {
    const a = '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----'
    const b = '-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----'
    expect(caAsOneString({ ca: [a, b] })).toEqual({ ca: `${a}\n${b}` })
    expect(caAsOneString({ ca: a })).toEqual({})
    expect(caAsOneString({})).toEqual({})
  })
})
