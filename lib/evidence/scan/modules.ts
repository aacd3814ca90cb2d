// Which built-in module specifiers grant which capability.
import type { Capability } from './findings.js'

const NETWORK_MODULES = new Set(['net', 'http', 'https', 'http2', 'dgram', 'tls', 'dns', 'dns/promises'])

/** The capability a module specifier (`require('x')`, `import 'x'`) grants, if any. */
export function moduleCapability (specifier: string): Capability | undefined {
  const spec = specifier.startsWith('node:') ? specifier.slice(5) : specifier
  if (spec === 'child_process') return 'child_process'
  if (spec === 'vm') return 'eval'
  if (NETWORK_MODULES.has(spec)) return 'network'
  return undefined
}

/** Global names whose use means network access (`fetch(` is handled as a call). */
export const NETWORK_GLOBALS = new Set(['WebSocket', 'XMLHttpRequest'])

/** Names under which code reaches the global object (`globalThis.fetch`). */
export const GLOBAL_OBJECTS = new Set(['globalThis', 'global', 'window', 'self'])
