// A Sigstore trusted root read from a file (`--trusted-root`,
// `safeInstall.trustedRoot`): for private Sigstore deployments, as cosign's
// and the sigstore CLI's `--trusted-root`. It replaces the public-good root
// (TUF or embedded) entirely. A file that cannot be read or is not a usable
// trusted root is an error, never a silent fallback to another root.
import fs from 'node:fs'
import { TrustedRoot } from '@sigstore/protobuf-specs'
import { toTrustMaterial } from '@sigstore/verify'
import { SafeInstallError } from '../errors.js'
import { errorMessage } from './util.js'

const MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(\.v\d+\.\d+)?\+json/

const loaded = new Map<string, TrustedRoot>()

function fail (file: string, problem: string, cause?: unknown): never {
  throw new SafeInstallError('ESITRUSTEDROOT', `the Sigstore trusted root ${file} ${problem}`, {
    path: file,
    fix: 'Point `--trusted-root` / `safeInstall.trustedRoot` at a trusted_root.json in the Sigstore format ' +
      '(e.g. from `cosign trusted-root create` or your deployment\'s TUF repository), or remove the setting to use the public-good root.',
    cause,
  })
}

/**
 * Reads, parses and checks a trusted_root.json (absolute path); the result is
 * kept for the process, so the check at start-up and the verification use the
 * same root. Throws ESITRUSTEDROOT.
 */
export function loadTrustedRootFile (file: string): TrustedRoot {
  let stat: fs.Stats
  let text: string
  try {
    stat = fs.statSync(file)
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    return fail(file, `cannot be read (${errorMessage(err)})`, err)
  }
  const memo = `${file}\0${stat.mtimeMs}\0${stat.size}`
  const found = loaded.get(memo)
  if (found) return found

  let json: any
  try {
    json = JSON.parse(text)
  } catch (err) {
    return fail(file, `is not JSON (${errorMessage(err)})`, err)
  }
  if (!json || typeof json !== 'object' || Array.isArray(json) || typeof json.mediaType !== 'string' || !MEDIA_TYPE.test(json.mediaType)) {
    return fail(file, `is not a Sigstore trusted root (mediaType ${JSON.stringify(json?.mediaType)}, expected application/vnd.dev.sigstore.trustedroot+json)`)
  }
  let root: TrustedRoot
  try {
    root = TrustedRoot.fromJSON(json)
    // parses every certificate and key: a damaged one fails here, not per package
    toTrustMaterial(root)
  } catch (err) {
    return fail(file, `has an entry that cannot be used (${errorMessage(err)})`, err)
  }
  if (!root.certificateAuthorities.length) return fail(file, 'names no certificate authority: no provenance could verify against it')
  if (!root.tlogs.length) return fail(file, 'names no transparency log: no provenance could verify against it')
  loaded.set(memo, root)
  return root
}
