// A provenance verification thread (see provenance-pool.ts): it receives a
// trusted root once (as JSON), then jobs, and answers each with the
// ProvenanceOutcome of verifyAttestations. Nothing here does I/O.
import { parentPort } from 'node:worker_threads'
import { TrustedRoot } from '@sigstore/protobuf-specs'
import type { RegistryKey } from './keys.js'
import { verifyAttestations } from './provenance.js'
import type { PoolReply, PoolRequest } from './provenance-pool.js'
import { errorMessage } from './util.js'

const roots = new Map<number, TrustedRoot>()
// verifyAttestations caches its trust material per key list object: give it
// the same object for the same keys
const keyLists = new Map<string, readonly RegistryKey[]>()

function keysOf (keys: readonly RegistryKey[] | undefined): readonly RegistryKey[] | undefined {
  if (!keys) return undefined
  const id = JSON.stringify(keys)
  let found = keyLists.get(id)
  if (!found) keyLists.set(id, found = keys)
  return found
}

parentPort!.on('message', (msg: PoolRequest) => {
  let reply: PoolReply
  try {
    if (msg.root !== undefined) roots.set(msg.rootId, TrustedRoot.fromJSON(msg.root))
    const trustedRoot = roots.get(msg.rootId)
    if (!trustedRoot) throw new Error(`trusted root ${msg.rootId} was never sent`)
    reply = { id: msg.id, outcome: verifyAttestations({ ...msg.input, keys: keysOf(msg.input.keys), trustedRoot }) }
  } catch (err) {
    reply = { id: msg.id, error: errorMessage(err) }
  }
  parentPort!.postMessage(reply)
})

// modules loaded: jobs may come
parentPort!.postMessage({ ready: true } satisfies PoolReply)
