/**
 * Calls you can trust (docs/ENCRYPTION.md, "Call proofs"): each side signs the DTLS
 * fingerprints of its SDP (its `a=fingerprint:` lines) with its device's ECDSA key, and the
 * other side checks them against the member's published key before applying the SDP. The
 * relay can still see who calls whom, but it cannot put itself in the media path: the DTLS
 * handshake only completes with the certificate whose fingerprint was signed.
 *
 * Framework-free. A proof travels beside the description (`{ description, proof }` for room
 * calls, inside the `call`/`answer` signal for 1:1 calls) and is opaque to the server:
 *
 *   { v: 'cp1', fingerprints: ['sha-256 AB:CD:…', …], sig: <base64 ECDSA P-256 / SHA-256, P1363> }
 *
 * The signature covers UTF-8 JSON `["parley/call-proof/1", room, from, to, fingerprints]`,
 * `from`/`to` being the two sockets' ids (server-assigned; so a proof is good for one pair in
 * one session only) and `fingerprints` the canonical list taken from the SDP itself: each
 * line's hash function lower-cased, its hex upper-cased, duplicates dropped, sorted. The
 * verifier recomputes that list from the SDP it is about to apply, so a fingerprint changed
 * in transit, added or removed fails the signature.
 */
import { base64ToBytes, bytesToBase64 } from './crypto.js';
import { SIGN_PARAMS, type DeviceIdentity, type PublicBundle } from './identity-bundle.js';
import type { DescriptionVerifier } from './room-call.js';

export const CALL_PROOF_VERSION = 'cp1';
const CONTEXT = 'parley/call-proof/1';
const FINGERPRINT_LINE = /^a=fingerprint:([A-Za-z0-9-]{1,16})[ \t]+([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){15,63})[ \t]*$/;

export interface CallProof {
  v: typeof CALL_PROOF_VERSION;
  fingerprints: string[];
  sig: string;
}

/** Who a proof is for: the room, the signer's socket id, the recipient's socket id. */
export interface CallProofContext {
  room: string;
  from: string;
  to: string;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('Web Crypto is unavailable (needs a secure context: https or localhost)');
  return s;
}

/**
 * The canonical list of an SDP's DTLS fingerprints (session and media level alike), or null
 * when it has none or an `a=fingerprint:` line that does not parse (nothing to vouch for).
 */
export function sdpFingerprints(sdp: string | undefined): string[] | null {
  if (typeof sdp !== 'string') return null;
  const out = new Set<string>();
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (!line.toLowerCase().startsWith('a=fingerprint:')) continue;
    const m = FINGERPRINT_LINE.exec(line);
    if (!m) return null;
    out.add(`${m[1]!.toLowerCase()} ${m[2]!.toUpperCase()}`);
  }
  return out.size > 0 ? [...out].sort() : null;
}

function signedBytes(ctx: CallProofContext, fingerprints: string[]): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(
    JSON.stringify([CONTEXT, ctx.room, ctx.from, ctx.to, fingerprints]),
  ) as Uint8Array<ArrayBuffer>;
}

/** Signs the fingerprints of `sdp` with the device's ECDSA key (throws when it has none). */
export async function signCallProof(
  ecdsaPrivateKey: CryptoKey,
  ctx: CallProofContext,
  sdp: string | undefined,
): Promise<CallProof> {
  const fingerprints = sdpFingerprints(sdp);
  if (!fingerprints) throw new Error('The description has no DTLS fingerprint to sign');
  const sig = await subtle().sign(SIGN_PARAMS, ecdsaPrivateKey, signedBytes(ctx, fingerprints));
  return { v: CALL_PROOF_VERSION, fingerprints, sig: bytesToBase64(new Uint8Array(sig)) };
}

/**
 * True only when `proof` is a well-formed proof, signed by `ecdsaPublicKey` for this context,
 * over exactly the fingerprints `sdp` carries.
 */
export async function verifyCallProof(
  ecdsaPublicKey: CryptoKey,
  ctx: CallProofContext,
  sdp: string | undefined,
  proof: unknown,
): Promise<boolean> {
  const fingerprints = sdpFingerprints(sdp);
  if (!fingerprints || !proof || typeof proof !== 'object') return false;
  const p = proof as Partial<CallProof>;
  if (p.v !== CALL_PROOF_VERSION || typeof p.sig !== 'string' || !Array.isArray(p.fingerprints)) return false;
  if (p.fingerprints.length !== fingerprints.length || p.fingerprints.some((f, i) => f !== fingerprints[i])) {
    return false;
  }
  const sig = base64ToBytes(p.sig);
  if (!sig || sig.length !== 64) return false;
  try {
    return await subtle().verify(SIGN_PARAMS, ecdsaPublicKey, sig, signedBytes(ctx, fingerprints));
  } catch {
    return false;
  }
}

/** What a {@link callVerifier} needs of the page's current member-keys session. */
export interface CallAuthSession {
  room: string;
  /** This socket's id. */
  id: string;
  identity: Pick<DeviceIdentity, 'ecdsa'>;
  /**
   * The member's key as the page knows it: undefined for an unknown socket, or one whose key
   * must not be trusted for a call (no valid bundle, a changed key not accepted yet).
   */
  memberKey(peerId: string): PublicBundle | undefined;
}

/** The reason a proof was refused, for the page to say. */
export type CallAuthFailure = 'no-session' | 'unknown-member' | 'bad-proof';

export interface CallVerifierOptions {
  /** How long to wait for a peer's key to be known (its `users` entry still being read), ms. */
  memberWaitMs?: number;
  /** Told of each refusal (the page shows it). */
  onRefused?(peerId: string, reason: CallAuthFailure): void;
}

/**
 * A {@link DescriptionVerifier} over the page's current session (read at each use: the
 * session changes with a rejoin). `session()` returns null outside member-keys mode, and
 * then nothing is signed or checked (passphrase rooms have no device signatures).
 */
export function callVerifier(
  session: () => CallAuthSession | null | undefined,
  options: CallVerifierOptions = {},
): DescriptionVerifier {
  const wait = options.memberWaitMs ?? 3000;
  const memberKey = async (s: CallAuthSession, peerId: string) => {
    const until = Date.now() + wait;
    for (;;) {
      const key = s.memberKey(peerId);
      if (key || Date.now() >= until) return key;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    async sign(peerId, description) {
      const s = session();
      if (!s) return undefined;
      return signCallProof(s.identity.ecdsa.privateKey, { room: s.room, from: s.id, to: peerId }, description.sdp);
    },
    async verify(peerId, description, proof) {
      const s = session();
      if (!s) return true;
      // A rollback carries no SDP and changes no keys.
      if (description.type === 'rollback') return true;
      const key = await memberKey(s, peerId);
      if (!key) {
        options.onRefused?.(peerId, 'unknown-member');
        return false;
      }
      const ok = await verifyCallProof(key.ecdsa, { room: s.room, from: peerId, to: s.id }, description.sdp, proof);
      if (!ok) options.onRefused?.(peerId, 'bad-proof');
      return ok;
    },
  };
}
