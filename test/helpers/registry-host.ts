// The registry npm uses when none is configured, from npm's own config
// definitions: tests name it through these, never by its host name.
import { DEFAULT_REGISTRY } from '../../lib/config/load.js'

/** with a trailing slash */
export const PUBLIC_REGISTRY: string = DEFAULT_REGISTRY
export const PUBLIC_HOST: string = new URL(DEFAULT_REGISTRY).host
