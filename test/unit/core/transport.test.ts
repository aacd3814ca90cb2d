import { describe, expect, it } from 'vitest'

import { DEFAULT_REGISTRY } from '../../../lib/config/load.js'
import { ERROR_CODES } from '../../../lib/errors.js'
import { checkTransport, redactUrl, type TransportInput } from '../../../lib/policy/transport.js'

function input (over: Partial<TransportInput> = {}): TransportInput {
  return {
    strictSSL: true,
    nodeTlsRejectUnauthorized: undefined,
    registries: [{ name: 'registry', url: DEFAULT_REGISTRY }],
    ...over,
  }
}

const codes = (vs: { code: string }[]) => vs.map(v => v.code)

describe('checkTransport: a sane configuration', () => {
  it('https default registry, strict-ssl on, no TLS env: nothing to say', () => {
    expect(checkTransport(input())).toEqual([])
  })

  it('no registries at all is not itself a violation', () => {
    expect(checkTransport(input({ registries: [] }))).toEqual([])
  })

  it('strict-ssl true as a string, undefined or null is accepted', () => {
    for (const strictSSL of [true, 'true', undefined, null]) {
      expect(checkTransport(input({ strictSSL })), String(strictSSL)).toEqual([])
    }
  })
})

describe('checkTransport: strict-ssl', () => {
  it('strict-ssl=false (boolean) is refused with ESISTRICTSSL', () => {
    const out = checkTransport(input({ strictSSL: false }))
    expect(codes(out)).toEqual(['ESISTRICTSSL'])
    expect(out[0].message).toMatch(/strict-ssl=false/)
    expect(out[0].fix).toMatch(/cafile/)
  })

  it('strict-ssl="false" (string, as read from an .npmrc) is refused too', () => {
    expect(codes(checkTransport(input({ strictSSL: 'false' })))).toEqual(['ESISTRICTSSL'])
  })
})

describe('checkTransport: NODE_TLS_REJECT_UNAUTHORIZED', () => {
  it('"0" is refused with ESITLSENV', () => {
    const out = checkTransport(input({ nodeTlsRejectUnauthorized: '0' }))
    expect(codes(out)).toEqual(['ESITLSENV'])
    expect(out[0].message).toMatch(/NODE_TLS_REJECT_UNAUTHORIZED=0/)
    expect(out[0].fix).toMatch(/unset NODE_TLS_REJECT_UNAUTHORIZED/)
  })

  it('"1" and unset pass', () => {
    expect(checkTransport(input({ nodeTlsRejectUnauthorized: '1' }))).toEqual([])
    expect(checkTransport(input({ nodeTlsRejectUnauthorized: undefined }))).toEqual([])
  })

  it('strict-ssl=false and the TLS env together give both violations, in order', () => {
    expect(codes(checkTransport(input({ strictSSL: false, nodeTlsRejectUnauthorized: '0' }))))
      .toEqual(['ESISTRICTSSL', 'ESITLSENV'])
  })
})

describe('checkTransport: registry URLs', () => {
  it('an http:// default registry is refused with ESIHTTPREGISTRY naming it', () => {
    const out = checkTransport(input({ registries: [{ name: 'registry', url: 'http://registry.example.com/' }] }))
    expect(codes(out)).toEqual(['ESIHTTPREGISTRY'])
    expect(out[0].message).toContain('registry uses http://')
    expect(out[0].message).toContain('http://registry.example.com/')
    expect(out[0].fix).toBe('set registry to an https:// URL')
  })

  it('an http:// scoped registry is refused, named by its config key', () => {
    const out = checkTransport(input({
      registries: [
        { name: 'registry', url: DEFAULT_REGISTRY },
        { name: '@corp:registry', url: 'http://npm.corp.example.org/' },
      ],
    }))
    expect(codes(out)).toEqual(['ESIHTTPREGISTRY'])
    expect(out[0].message).toMatch(/^@corp:registry uses http:\/\//)
    expect(out[0].fix).toBe('set @corp:registry to an https:// URL')
  })

  it('every bad registry is reported, good ones are not', () => {
    const out = checkTransport(input({
      registries: [
        { name: 'registry', url: 'http://a.example.com/' },
        { name: '@ok:registry', url: 'https://ok.example.com/' },
        { name: '@b:registry', url: 'http://b.example.com/' },
      ],
    }))
    expect(out.map(v => v.fix)).toEqual(['set registry to an https:// URL', 'set @b:registry to an https:// URL'])
  })

  it('other non-https schemes are refused too', () => {
    for (const url of ['ftp://example.com/', 'file:///tmp/registry/', 'ws://127.0.0.1:4873/']) {
      const out = checkTransport(input({ registries: [{ name: 'registry', url }] }))
      expect(codes(out), url).toEqual(['ESIHTTPREGISTRY'])
    }
  })

  it('https with a port or a path is fine', () => {
    expect(checkTransport(input({ registries: [{ name: 'registry', url: 'https://127.0.0.1:4873/npm/' }] }))).toEqual([])
  })

  it('an invalid URL is refused with ESIHTTPREGISTRY and says it is not a URL', () => {
    const out = checkTransport(input({ registries: [{ name: 'registry', url: 'not a url' }] }))
    expect(codes(out)).toEqual(['ESIHTTPREGISTRY'])
    expect(out[0].message).toContain('registry is not a valid URL')
    expect(out[0].message).toContain('not a url')
  })

  it('credentials in an http registry URL are redacted from the message', () => {
    const out = checkTransport(input({ registries: [{ name: 'registry', url: 'http://alice:s3cr3t-token@registry.example.com/' }] }))
    expect(codes(out)).toEqual(['ESIHTTPREGISTRY'])
    expect(out[0].message).not.toContain('s3cr3t-token')
    expect(out[0].message).not.toContain('alice')
    expect(out[0].message).toContain('registry.example.com')
    expect(JSON.stringify(out)).not.toContain('s3cr3t-token')
  })

  it('credentials in an unparseable registry URL are not echoed in the message', () => {
    // a typo (the space) makes the URL unparseable; the token must still not reach logs
    const out = checkTransport(input({ registries: [{ name: 'registry', url: 'https://alice:s3cr3t-token@registry.example .com/' }] }))
    expect(codes(out)).toEqual(['ESIHTTPREGISTRY'])
    expect(JSON.stringify(out)).not.toContain('s3cr3t-token')
  })

  it('every emitted code is a known error code', () => {
    const out = checkTransport(input({ strictSSL: false, nodeTlsRejectUnauthorized: '0', registries: [{ name: 'registry', url: 'http://example.com/' }] }))
    for (const v of out) expect(ERROR_CODES).toHaveProperty(v.code)
  })
})

describe('redactUrl', () => {
  it('replaces user and drops password', () => {
    const r = redactUrl('https://alice:secret@example.com/path?q=1')
    expect(r).toBe('https://***@example.com/path?q=1')
    expect(r).not.toContain('secret')
    expect(r).not.toContain('alice')
  })

  it('redacts a password-only URL', () => {
    const r = redactUrl('https://:secret@example.com/')
    expect(r).not.toContain('secret')
    expect(r).toContain('example.com')
  })

  it('redacts a user-only URL', () => {
    expect(redactUrl('https://token@example.com/')).toBe('https://***@example.com/')
  })

  it('leaves a URL without credentials as the URL parser normalises it', () => {
    expect(redactUrl('https://example.com/a/b')).toBe('https://example.com/a/b')
    expect(redactUrl('https://EXAMPLE.com')).toBe('https://example.com/')
  })

  it('returns an unparseable string unchanged', () => {
    expect(redactUrl('not a url')).toBe('not a url')
  })
})
