// Sigstore trust material that is cheap to verify against, with the same
// verdicts as @sigstore/verify's own. Its certificate chain verifier compares
// and verifies certificates by re-encoding them to DER (ASN1Obj.toDER) and
// re-creating their public keys on every call: for every bundle, every
// trusted CA certificate was re-encoded several times and the root's
// self-signature verified again. Here each certificate is encoded once, each
// key created once, and a (certificate, issuer) signature check whose inputs
// never change is done once; the verifier's logic itself is untouched.
// Per bundle, only the certificate authorities that can have issued the
// leaf (by the same issuer-matching rule the verifier uses) are offered.
import type { Bundle } from '@sigstore/bundle'
import { ASN1Obj, crypto as sigstoreCrypto, X509Certificate } from '@sigstore/core'
import type { TrustedRoot } from '@sigstore/protobuf-specs'
import { toSignedEntity, toTrustMaterial, type TrustMaterial } from '@sigstore/verify'
import type { KeyObject } from 'node:crypto'

type CertAuthority = TrustMaterial['certificateAuthorities'][number]
type SignedEntity = ReturnType<typeof toSignedEntity>
type KeyFinder = TrustMaterial['publicKey']

/** DER length octets, as @sigstore/core's encodeLength writes them (minimal, definite form). */
function derLength (len: number): Buffer {
  if (len < 128) return Buffer.from([len])
  const bytes: number[] = []
  for (let v = len; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

/**
 * The bytes ASN1Obj.toDER() produces (tag octet, length, then the value or
 * the encodings of the children), built with one concat per level instead
 * of @sigstore/core's growing ByteStream, which reallocates per kilobyte.
 */
export function encodeDER (obj: ASN1Obj): Buffer {
  const value = obj.subs.length > 0 ? Buffer.concat(obj.subs.map(encodeDER)) : obj.value
  return Buffer.concat([Buffer.from([obj.tag.toDER() & 0xff]), derLength(value.length), value])
}

/** An ASN.1 node that encodes itself with encodeDER (same bytes as its base class, built faster). */
class EncodedASN1 extends ASN1Obj {
  override toDER (): Buffer {
    return encodeDER(this)
  }
}

/**
 * A structural copy of an ASN.1 tree made of EncodedASN1 nodes: new nodes and
 * child arrays (so removing a child, as the SCT check does on its clone,
 * touches only the copy), sharing the value bytes, which nothing writes to.
 */
function encodedTree (obj: ASN1Obj): ASN1Obj {
  return new EncodedASN1(obj.tag, obj.value, obj.subs.map(encodedTree))
}

/**
 * An X509Certificate whose DER encodings, public key and signature checks are
 * computed once. Each is the same function of the same bytes as in the base
 * class (DER as `root.toDER()` encodes it, the TBS as `tbsCertificate.toDER()`),
 * so results are identical; only the repetition goes.
 */
export class PreparedCertificate extends X509Certificate {
  #der?: Buffer
  #tbs?: Buffer
  #spki?: Buffer
  #key?: KeyObject
  readonly #verified = new WeakMap<X509Certificate, boolean>()
  #selfVerified?: boolean

  static from (cert: X509Certificate): PreparedCertificate {
    return cert instanceof PreparedCertificate ? cert : new PreparedCertificate(encodedTree(cert.root))
  }

  get der (): Buffer {
    return this.#der ??= encodeDER(this.root)
  }

  override get publicKey (): Buffer {
    // the subjectPublicKeyInfo (7th field of the TBS), as the base getter reads it
    return this.#spki ??= encodeDER(this.tbsCertificate.subs[6])
  }

  get keyObject (): KeyObject {
    return this.#key ??= sigstoreCrypto.createPublicKey(this.publicKey)
  }

  override equals (other: X509Certificate): boolean {
    return this.der.equals(other instanceof PreparedCertificate ? other.der : other.root.toDER())
  }

  override verify (issuer?: X509Certificate): boolean {
    if (!issuer) return this.#selfVerified ??= this.#check(this.keyObject)
    let ok = this.#verified.get(issuer)
    if (ok === undefined) {
      const key = issuer instanceof PreparedCertificate ? issuer.keyObject : sigstoreCrypto.createPublicKey(issuer.publicKey)
      ok = this.#check(key)
      this.#verified.set(issuer, ok)
    }
    return ok
  }

  /** what the base class returns (a re-parse of a copy of the DER), without the re-parse */
  override clone (): X509Certificate {
    return new X509Certificate(encodedTree(this.root))
  }

  #check (key: KeyObject): boolean {
    this.#tbs ??= encodeDER(this.tbsCertificate)
    return sigstoreCrypto.verify(this.#tbs, key, this.signatureValue, this.signatureAlgorithm)
  }
}

function prepareAuthority (ca: CertAuthority): CertAuthority {
  return { ...ca, certChain: ca.certChain.map(c => PreparedCertificate.from(c)) }
}

/**
 * Whether `candidate` can be found as the issuer of `cert` by
 * @sigstore/verify's CertificateChainVerifier.findIssuer: by authority key
 * identifier vs subject key identifier when both are present, else by
 * issuer vs subject name.
 */
export function mayHaveIssued (candidate: X509Certificate, cert: X509Certificate): boolean {
  const aki = cert.extAuthorityKeyID?.keyIdentifier
  const ski = candidate.extSubjectKeyID
  if (aki && ski) return ski.keyIdentifier.equals(aki)
  return candidate.subject.equals(cert.issuer)
}

/** Trust material prepared once per trusted root (and key finder), narrowed per leaf. */
export class PreparedTrust {
  readonly material: TrustMaterial
  readonly #subsets = new Map<string, TrustMaterial>()

  constructor (root: TrustedRoot, keys: KeyFinder) {
    const base = toTrustMaterial(root, keys)
    this.material = {
      ...base,
      certificateAuthorities: base.certificateAuthorities.map(prepareAuthority),
      timestampAuthorities: base.timestampAuthorities.map(prepareAuthority),
    }
  }

  /**
   * The trust material for a bundle signed by `leaf`: the certificate
   * authorities whose chain holds a possible issuer of the leaf (a CA without
   * one can never yield a path, so the verdict is the same), cached per subset.
   */
  forLeaf (leaf: X509Certificate | undefined): TrustMaterial {
    if (!leaf) return this.material
    const cas = this.material.certificateAuthorities
    const picked: number[] = []
    cas.forEach((ca, i) => { if (ca.certChain.some(c => mayHaveIssued(c, leaf))) picked.push(i) })
    if (picked.length === cas.length) return this.material
    const id = picked.join(',')
    let tm = this.#subsets.get(id)
    if (!tm) {
      tm = { ...this.material, certificateAuthorities: picked.map(i => cas[i]) }
      this.#subsets.set(id, tm)
    }
    return tm
  }
}

/** The bundle as @sigstore/verify sees it, with a signing certificate that encodes itself once. */
export function preparedEntity (bundle: Bundle): SignedEntity {
  const entity = toSignedEntity(bundle)
  if (entity.key.$case !== 'certificate') return entity
  return { ...entity, key: { $case: 'certificate', certificate: PreparedCertificate.from(entity.key.certificate) } }
}

/** The signing certificate of an entity, if it is certificate-signed. */
export function leafOf (entity: SignedEntity): X509Certificate | undefined {
  return entity.key.$case === 'certificate' ? entity.key.certificate : undefined
}
