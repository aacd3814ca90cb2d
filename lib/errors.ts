// The one table of error codes, their exit codes and what they mean.
// The README's table lists every code here (test/unit/core/readme-codes.test.ts checks it).

export interface ErrorCodeInfo {
  readonly exit: number
  readonly summary: string
}

/** Exit codes, by class of failure. */
export const EXIT = {
  OK: 0,
  /** a package was refused by a check (integrity, signature, policy...) */
  REFUSED: 1,
  /** bad usage or input: flags, package.json, lockfile */
  USAGE: 2,
  /** transport policy (TLS) refused */
  TRANSPORT: 3,
  /** the network or the registry failed */
  NETWORK: 4,
  /** another install holds the lock */
  BUSY: 5,
  /** writing node_modules failed (old tree restored) */
  WRITE: 6,
  /** advisories / malware at or above the audit level */
  ADVISORY: 7,
  /** internal error (a bug: please report) */
  INTERNAL: 70,
} as const

export const ERROR_CODES = {
  // usage and input
  ESIUSAGE: { exit: EXIT.USAGE, summary: 'invalid command line or safeInstall setting' },
  ESINOLOCK: { exit: EXIT.USAGE, summary: '`ci`/`verify` need a package-lock.json or npm-shrinkwrap.json' },
  ESILOCKSYNC: { exit: EXIT.USAGE, summary: 'package.json and the lockfile are out of sync' },
  ESIBADJSON: { exit: EXIT.USAGE, summary: 'package.json or the lockfile is malformed' },
  ESICONFIG: { exit: EXIT.USAGE, summary: 'npm configuration could not be loaded' },
  ESIRESOLVE: { exit: EXIT.USAGE, summary: 'dependencies could not be resolved' },
  ESITRUSTEDROOT: { exit: EXIT.USAGE, summary: 'the `--trusted-root` file cannot be read or is not a Sigstore trusted root' },
  // transport (SCVS 4.15/4.16)
  ESISTRICTSSL: { exit: EXIT.TRANSPORT, summary: '`strict-ssl=false` is refused' },
  ESITLSENV: { exit: EXIT.TRANSPORT, summary: 'NODE_TLS_REJECT_UNAUTHORIZED=0 is refused' },
  ESIHTTPREGISTRY: { exit: EXIT.TRANSPORT, summary: 'a registry is configured over http://' },
  ESICAFILE: { exit: EXIT.TRANSPORT, summary: 'the configured cafile cannot be read' },
  // lockfile policy (SCVS 4.1/4.2)
  ESIGIT: { exit: EXIT.REFUSED, summary: 'git dependency not allowed by allow-git' },
  ESIREMOTE: { exit: EXIT.REFUSED, summary: 'remote tarball URL not allowed by allow-remote' },
  ESIFILE: { exit: EXIT.REFUSED, summary: 'file: tarball not allowed by allow-file' },
  ESIDIRECTORY: { exit: EXIT.REFUSED, summary: 'directory dependency not allowed by allow-directory' },
  ESIHTTPURL: { exit: EXIT.REFUSED, summary: 'a resolved URL is not https://' },
  ESIFOREIGNHOST: { exit: EXIT.REFUSED, summary: 'a resolved URL is not on the configured registry' },
  ESIURLPATH: { exit: EXIT.REFUSED, summary: 'a resolved URL names another package or version' },
  ESINOINTEGRITY: { exit: EXIT.REFUSED, summary: 'a lockfile entry has no sha512 integrity' },
  // fetch and integrity (SCVS 4.13/4.14)
  ESIINTEGRITY: { exit: EXIT.REFUSED, summary: 'tarball bytes do not match the lockfile integrity' },
  ESIREPUBLISHED: { exit: EXIT.REFUSED, summary: 'the registry integrity differs from the lockfile (republished version)' },
  ESICACHECORRUPT: { exit: EXIT.REFUSED, summary: 'cached tarball is corrupt and --offline forbids refetching' },
  ESIOFFLINE: { exit: EXIT.NETWORK, summary: 'a package is not in the cache and --offline is set' },
  ESIFETCH: { exit: EXIT.NETWORK, summary: 'the registry could not be reached or answered with an error' },
  ESINOTFOUND: { exit: EXIT.REFUSED, summary: 'the registry does not have this package version' },
  ESIMANIFEST: { exit: EXIT.REFUSED, summary: 'the tarball\'s package.json does not match the lockfile entry' },
  // tarball structure (SCVS 4.18)
  ESITARPATH: { exit: EXIT.REFUSED, summary: 'a tarball entry escapes its package folder' },
  ESITARLINK: { exit: EXIT.REFUSED, summary: 'a tarball link points outside its package folder' },
  ESIBINPATH: { exit: EXIT.REFUSED, summary: 'a bin entry escapes node_modules/.bin or the package' },
  // evidence (SCVS 4.3-4.5, 4.10, 4.12)
  ESISIGINVALID: { exit: EXIT.REFUSED, summary: 'registry signature does not verify' },
  ESISIGMISSING: { exit: EXIT.REFUSED, summary: 'registry serves keys but this package has no signature' },
  ESISIGUNCHECKED: { exit: EXIT.REFUSED, summary: 'signatures required but the registry published no keys' },
  ESIPROVINVALID: { exit: EXIT.REFUSED, summary: 'provenance attestation does not verify' },
  ESIPROVMISSING: { exit: EXIT.REFUSED, summary: 'provenance required but absent' },
  ESIIDENTITY: { exit: EXIT.REFUSED, summary: 'provenance repository differs from the declared repository' },
  ESITRUSTDOWNGRADE: { exit: EXIT.REFUSED, summary: 'weaker publishing evidence than an earlier version' },
  // notices (SCVS 4.6-4.9)
  ESIADVISORY: { exit: EXIT.ADVISORY, summary: 'advisory at or above --audit-level' },
  ESIMALWARE: { exit: EXIT.ADVISORY, summary: 'package is flagged as malware' },
  ESITOONEW: { exit: EXIT.REFUSED, summary: 'version younger than the release-age cooldown' },
  ESINOTIME: { exit: EXIT.REFUSED, summary: 'publish time unknown and the cooldown is strict' },
  // write
  ESIBUSY: { exit: EXIT.BUSY, summary: 'another safe-install is running in this project' },
  ESIWRITE: { exit: EXIT.WRITE, summary: 'writing node_modules failed; the previous tree was restored' },
  ESIINTERNAL: { exit: EXIT.INTERNAL, summary: 'internal error' },
} as const satisfies Record<string, ErrorCodeInfo>

export type ErrorCode = keyof typeof ERROR_CODES

/** An expected failure: rendered without a stack trace. */
export class SafeInstallError extends Error {
  readonly code: ErrorCode
  readonly violations: readonly import('./types.js').Violation[]
  readonly package?: string
  readonly path?: string
  readonly fix?: string

  constructor (code: ErrorCode, message: string, extra: {
    violations?: readonly import('./types.js').Violation[]
    package?: string
    path?: string
    fix?: string
    cause?: unknown
  } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
    this.name = 'SafeInstallError'
    this.code = code
    this.violations = extra.violations ?? []
    this.package = extra.package
    this.path = extra.path
    this.fix = extra.fix
  }

  get exitCode (): number {
    return ERROR_CODES[this.code].exit
  }
}

/** The exit code for a set of refusals: the first one's class decides. */
export function exitCodeFor (violations: readonly { code: string }[]): number {
  for (const v of violations) {
    const info = (ERROR_CODES as Record<string, ErrorCodeInfo>)[v.code]
    if (info) return info.exit
  }
  return EXIT.REFUSED
}
