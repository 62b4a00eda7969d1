/**
 * The page's side of the "keys" room mode: a KeysRoom (client/keys-room.ts) fed with the
 * socket's `users` and `direct` events, fingerprints remembered per room and name in
 * localStorage (trust on first use), the words the page shows for each message state, and
 * the rotation cost measurement.
 */
import type { DirectMessage, RoomMessage, User } from '../../client/index.js';
import type { ParleyClient } from '../../client/parley-client.js';
import { generateDeviceIdentity, parseBundle, type DeviceIdentity } from '../../client/identity-bundle.js';
import { KeysRoom, memoryTrustStore, type Member, type MessageState, type TrustStore } from '../../client/keys-room.js';
import { createKeyShare, generateSenderKey, openKeyShare } from '../../client/sender-keys.js';

export type { Member, MessageState };

/** localStorage-backed; falls back to memory when storage is unavailable. */
function localTrustStore(): TrustStore {
  const memory = memoryTrustStore();
  const key = (room: string, name: string) => `parley:tofu:${JSON.stringify([room, name.toLocaleLowerCase('en-US')])}`;
  return {
    get(room, name) {
      try {
        return localStorage.getItem(key(room, name)) ?? memory.get(room, name);
      } catch {
        return memory.get(room, name);
      }
    },
    set(room, name, fp) {
      memory.set(room, name, fp);
      try {
        localStorage.setItem(key(room, name), fp);
      } catch {
        /* private mode */
      }
    },
  };
}

const trust = localTrustStore();

/**
 * Key shares may arrive between the login ack and the session's start (another member saw
 * the new `users` list first): keep the latest few for a moment.
 */
const early: Array<{ msg: DirectMessage; until: number }> = [];

export function bufferEarlyDirects(client: ParleyClient): void {
  client.on('direct', (msg) => {
    early.push({ msg, until: Date.now() + 10_000 });
    while (early.length > 500) early.shift();
  });
}

export class KeysSession {
  readonly room: KeysRoom;
  private readonly unsubscribe: Array<() => void>;

  constructor(client: ParleyClient, identity: DeviceIdentity, user: User, onMembers: (members: Member[]) => void) {
    this.room = new KeysRoom({
      identity,
      user,
      trust,
      transport: { direct: (items) => client.direct(items) },
      onMembers,
    });
    this.unsubscribe = [
      client.on('users', (list) => void this.room.updateMembers(list)),
      client.on('direct', (msg) => void this.room.receiveDirect(msg)),
    ];
    const now = Date.now();
    for (const e of early.splice(0)) if (e.until > now) void this.room.receiveDirect(e.msg);
  }

  updateMembers(users: User[]): Promise<void> {
    return this.room.updateMembers(users);
  }

  encrypt(text: string): Promise<string> {
    return this.room.encrypt(text);
  }

  open(m: RoomMessage): Promise<MessageState> {
    return this.room.open(m);
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    this.room.close();
  }
}

/** What the page says instead of a message it cannot show as text. */
export function failureText(reason: string): string {
  switch (reason) {
    case 'before-join':
      return 'Sent before you joined — cannot decrypt (new members get only the keys in use from their arrival on)';
    case 'no-key':
      return "Cannot decrypt: the sender's key never reached this device";
    case 'unverified':
      return "Unverified: the signature does not match the sender's published key (not shown)";
    case 'unknown-sender':
      return 'Cannot verify: the sender published no key for this mode';
    case 'unsupported-version':
      return 'Encrypted for another room mode or a newer client';
    case 'malformed':
      return 'Not an encrypted Parley message (hidden)';
    default:
      return 'Could not decrypt this message';
  }
}

/**
 * The cost of one membership change in a room of `n` for one device: a new sender key, a
 * share for each of the n−1 others (ECDH + HKDF + AES-GCM + ECDSA each), and opening the
 * n−1 shares the others send it. The others' identities are made beforehand, untimed.
 */
export async function measureRotation(
  n: number,
): Promise<{ n: number; makeAndShareMs: number; openSharesMs: number; totalMs: number; shareBytes: number }> {
  const me = await generateDeviceIdentity();
  const meBundle = (await parseBundle(me.bundle))!;
  const others = await Promise.all(Array.from({ length: n - 1 }, () => generateDeviceIdentity()));
  const bundles = await Promise.all(others.map((o) => parseBundle(o.bundle)));
  const room = 'measure';
  const t0 = performance.now();
  const key = await generateSenderKey();
  const items = await Promise.all(
    others.map(async (_, i) => ({
      to: `m${i}`,
      payload: await createKeyShare(key, { identity: me, name: 'me' }, { name: `m${i}`, bundle: bundles[i]! }, room),
    })),
  );
  const t1 = performance.now();
  // The shares the others send this device after the same change (made untimed).
  const incoming = await Promise.all(
    others.map(async (o, i) =>
      createKeyShare(await generateSenderKey(), { identity: o, name: `m${i}` }, { name: 'me', bundle: meBundle }, room),
    ),
  );
  const t2 = performance.now();
  await Promise.all(
    incoming.map((s, i) => openKeyShare(s, { identity: me, name: 'me', room }, { name: `m${i}`, bundle: bundles[i]! })),
  );
  const t3 = performance.now();
  return {
    n,
    makeAndShareMs: t1 - t0,
    openSharesMs: t3 - t2,
    totalMs: t1 - t0 + (t3 - t2),
    shareBytes: JSON.stringify(items).length,
  };
}
