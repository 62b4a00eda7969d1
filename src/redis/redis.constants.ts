/** The Redis module's options: where Redis is and the prefix of every key Parley writes. */
export interface RedisModuleOptions {
  url: string;
  keyPrefix: string;
  /** Liveness timings; the defaults clean a dead node up within about 9 s. */
  timings?: Partial<LivenessTimings>;
}

export interface LivenessTimings {
  /** How often a node refreshes its heartbeat key. */
  heartbeatMs: number;
  /** The heartbeat key's TTL: a node silent this long is dead. */
  heartbeatTtlMs: number;
  /** How often every node looks for dead owners. */
  sweepMs: number;
  /** The cleanup lock's TTL, so a sweeper that dies mid-cleanup does not block the next one. */
  lockTtlMs: number;
  /** How often the full key scan rebuilds the owner index (a safety net; see NodeLivenessService). */
  ownerScanMs: number;
}

export const DEFAULT_TIMINGS: LivenessTimings = {
  heartbeatMs: 2_000,
  heartbeatTtlMs: 6_000,
  sweepMs: 2_000,
  lockTtlMs: 60_000,
  ownerScanMs: 60_000,
};

/** DI tokens. */
export const REDIS_OPTIONS = Symbol('REDIS_OPTIONS');
/** The shared ioredis client (commands only; never subscribe on it). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/**
 * The keys a Lua script must compute from values it reads (a user's room, an entry's owning
 * node), as templates: `$` is a parameter. The one source for those names: RedisKeys builds
 * them from here, and every script gets a `key_<name>(prefix, …)` Lua function generated
 * from the same template (see lua.ts), so no script spells a key name itself.
 */
export const KEY_TEMPLATES = {
  owned: ['node:', '$', ':', '$'],
  user: ['user:', '$'],
  roomUsers: ['room:', '$', ':users'],
  roomNames: ['room:', '$', ':names'],
  rooms: ['rooms'],
  call: ['call:', '$'],
  socketCalls: ['calls:', '$'],
  lobbyOwner: ['lobby:owner'],
  peersOwner: ['peers:owner'],
  connTally: ['conn-ip-node:', '$'],
} as const satisfies Record<string, readonly string[]>;

export type TemplatedKey = keyof typeof KEY_TEMPLATES;

function fill(prefix: string, name: TemplatedKey, args: string[]): string {
  let next = 0;
  return prefix + KEY_TEMPLATES[name].map((part) => (part === '$' ? args[next++] : part)).join('');
}

/** The Lua functions, one per template: `key_roomUsers(p, room)` and so on. */
export function luaKeyFunctions(): string {
  return Object.entries(KEY_TEMPLATES)
    .map(([name, parts]) => {
      const params = parts.filter((part) => part === '$').map((_, i) => `a${i + 1}`);
      let next = 0;
      const body = ['p', ...parts.map((part) => (part === '$' ? params[next++] : `'${part}'`))].join(' .. ');
      return `local function key_${name}(${['p', ...params].join(', ')}) return ${body} end`;
    })
    .join('\n');
}

/**
 * Every key Parley keeps in Redis, under one prefix. One Redis (or a primary with
 * replicas / Sentinel): the Lua scripts compute some keys at run time, so Redis Cluster is
 * not supported.
 *
 * | key | type | what |
 * |---|---|---|
 * | `hb:<node>` | string, TTL | the node's heartbeat |
 * | `owners` | set | every node id that owns an entry (written with the entry, in the same script) |
 * | `node:<node>:<kind>` | set | the entries a node owns: users, conns, calls, lobby, peers |
 * | `sweep:<node>` | string, TTL | the lock of the node cleaning a dead node up |
 * | `seq` | counter | join order (ties of joinedAt), room and peer order |
 * | `user:<id>` | hash | json (the User), room, nk (name key), node, seq |
 * | `room:<room>:users` | zset | member ids scored by joinedAt |
 * | `room:<room>:names` | hash | name key → id (name uniqueness) |
 * | `rooms` | zset | rooms with users, in creation order |
 * | `conn:<id>` | string | the node holding the connection |
 * | `held:<id>` | string, TTL | a dropped connection held for the recovery window (the token of the drop) |
 * | `call:<a>|<b>` | hash | caller, callee, status, node, token, deadline |
 * | `calls:<id>` | set | the pair keys of a socket's calls |
 * | `lobby`, `lobby:owner` | hash | socket id → lobby name, → node |
 * | `peers`, `peers:sock`, `peers:owner`, `peers:order` | hash, hash, hash, zset | the peer channel |
 * | `conn-ip-node:<node>` | hash, TTL (the heartbeat's) | connections a node counts per client address (MAX_CONNECTIONS_PER_IP) |
 * | `conn-ip-nodes` | set, TTL (the heartbeat's) | the nodes that may have such a tally |
 * | `room:{<room>}:hmeta` | hash, TTL while the room is empty | the room's history epoch, latest offset, retained bytes |
 * | `room:{<room>}:history` | list, TTL | the room's retained messages, `<offset>|<bytes>|<at>|<json>` |
 * | `room:{<room>}:call` | hash | the room call's participants: socket id → CallPeer JSON |
 * | `room:{<room>}:reads` | hash | members' read positions: socket id → `<epoch>|<offset>|<at>` |
 * | `socket.io*`, `sio:session:*` | stream, channels, strings | the Socket.IO adapter |
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  heartbeat(node: string): string {
    return `${this.prefix}hb:${node}`;
  }
  get owners(): string {
    return `${this.prefix}owners`;
  }
  owned(node: string, kind: OwnedKind): string {
    return fill(this.prefix, 'owned', [node, kind]);
  }
  sweepLock(node: string): string {
    return `${this.prefix}sweep:${node}`;
  }
  get seq(): string {
    return `${this.prefix}seq`;
  }
  user(id: string): string {
    return fill(this.prefix, 'user', [id]);
  }
  roomUsers(room: string): string {
    return fill(this.prefix, 'roomUsers', [room]);
  }
  roomNames(room: string): string {
    return fill(this.prefix, 'roomNames', [room]);
  }
  /** A room's history keys share the hash tag `{<room>}`, so a cluster keeps them in one slot. */
  roomHistoryMeta(room: string): string {
    return `${this.prefix}room:{${room}}:hmeta`;
  }
  roomHistory(room: string): string {
    return `${this.prefix}room:{${room}}:history`;
  }
  /** Members' read positions (v1.2), under the room's hash tag too. */
  roomReads(room: string): string {
    return `${this.prefix}room:{${room}}:reads`;
  }
  /** Who is in the room's call (v1.2), under the room's hash tag too. */
  roomCall(room: string): string {
    return `${this.prefix}room:{${room}}:call`;
  }
  get rooms(): string {
    return fill(this.prefix, 'rooms', []);
  }
  conn(id: string): string {
    return `${this.prefix}conn:${id}`;
  }
  /** A dropped connection held for the recovery window. */
  held(id: string): string {
    return `${this.prefix}held:${id}`;
  }
  call(pair: string): string {
    return fill(this.prefix, 'call', [pair]);
  }
  socketCalls(id: string): string {
    return fill(this.prefix, 'socketCalls', [id]);
  }
  get lobby(): string {
    return `${this.prefix}lobby`;
  }
  get lobbyOwner(): string {
    return fill(this.prefix, 'lobbyOwner', []);
  }
  get peers(): string {
    return `${this.prefix}peers`;
  }
  get peersBySocket(): string {
    return `${this.prefix}peers:sock`;
  }
  get peersOwner(): string {
    return fill(this.prefix, 'peersOwner', []);
  }
  get peersOrder(): string {
    return `${this.prefix}peers:order`;
  }
  /** A node's per-address connection tally (see RedisConnectionCounter). */
  connTally(node: string): string {
    return fill(this.prefix, 'connTally', [node]);
  }
  get connTallyNodes(): string {
    return `${this.prefix}conn-ip-nodes`;
  }
  /** The Socket.IO adapter's stream name and channel prefix. */
  get socketIo(): string {
    return `${this.prefix}socket.io`;
  }
  get socketIoSession(): string {
    return `${this.prefix}sio:session:`;
  }
}

export type OwnedKind = 'users' | 'conns' | 'calls' | 'lobby' | 'peers';
export const OWNED_KINDS: OwnedKind[] = ['users', 'conns', 'calls', 'lobby', 'peers'];

/** A Redis URL for logs: the password (and user) never appear. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.username) u.username = '***';
    return u.toString();
  } catch {
    return 'redis://(unparseable url)';
  }
}
