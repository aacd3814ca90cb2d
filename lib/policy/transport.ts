// SCVS 4.15/4.16: TLS for every request, chains validated, failing closed.
// Judged before any request is made. No switch turns this off.
import type { Options } from '../options.js'
import type { Violation } from '../types.js'

export interface TransportInput {
  /** npm's `strict-ssl` */
  strictSSL: unknown
  /** process env NODE_TLS_REJECT_UNAUTHORIZED */
  nodeTlsRejectUnauthorized: string | undefined
  /** every registry URL in force: default, scoped, signatures registry */
  registries: readonly { name: string, url: string }[]
}

export function checkTransport (input: TransportInput): Violation[] {
  const out: Violation[] = []
  if (input.strictSSL === false || input.strictSSL === 'false') {
    out.push({
      code: 'ESISTRICTSSL',
      message: 'strict-ssl=false turns off certificate checks; safe-install refuses to run without them',
      fix: 'remove strict-ssl=false from your .npmrc or environment; for a private CA set cafile=<path to PEM>',
    })
  }
  if (input.nodeTlsRejectUnauthorized === '0') {
    out.push({
      code: 'ESITLSENV',
      message: 'NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate checks for every request',
      fix: 'unset NODE_TLS_REJECT_UNAUTHORIZED; for a private CA set cafile=<path to PEM> in .npmrc',
    })
  }
  for (const { name, url } of input.registries) {
    let protocol: string
    try {
      protocol = new URL(url).protocol
    } catch {
      out.push({ code: 'ESIHTTPREGISTRY', message: `${name} is not a valid URL: ${maskCredentials(url)}`, fix: `set ${name} to an https:// URL` })
      continue
    }
    if (protocol !== 'https:') {
      out.push({
        code: 'ESIHTTPREGISTRY',
        message: `${name} uses ${protocol}// (${redactUrl(url)}); packages and credentials would travel unencrypted`,
        fix: `set ${name} to an https:// URL`,
      })
    }
  }
  return out
}

/** Drops credentials from a URL before it is shown. */
export function redactUrl (url: string): string {
  try {
    const u = new URL(url)
    if (u.username || u.password) { u.username = '***'; u.password = '' }
    return u.toString()
  } catch {
    return url
  }
}

/** For strings that do not parse as URLs: hide anything between // and @. */
function maskCredentials (s: string): string {
  return s.replace(/\/\/[^/@\s]*@/, '//***@')
}

/** The transport policy over the options in force (every registry named anywhere). */
export function transportViolations (options: Options): Violation[] {
  const t = options.npmFlat._transport ?? {}
  return checkTransport({
    strictSSL: t.strictSSL,
    nodeTlsRejectUnauthorized: t.nodeTlsRejectUnauthorized,
    registries: [
      { name: 'registry', url: options.registry },
      ...Object.entries(options.scopedRegistries).map(([scope, url]) => ({ name: `${scope}:registry`, url })),
      ...(options.policy.signaturesRegistry ? [{ name: 'signaturesRegistry', url: options.policy.signaturesRegistry }] : []),
    ],
  })
}
