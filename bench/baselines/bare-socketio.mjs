// Bare Socket.IO 4.8 baseline for the Parley benchmark: the "no framework" server a user
// would otherwise write, in one plain file. It implements the chat and call-signaling
// events of PROTOCOL.md (v1) with the same checks, in the same order:
//   RATE_LIMITED; VALIDATION / PAYLOAD_TOO_LARGE; NOT_LOGGED_IN; the event's state errors.
// Of the compatibility events, only the room events user-connected / user-disconnected (on
// unless COMPAT_EVENTS=false, as in Parley; they are part of every login and leave).
// Not implemented (not exercised by the benchmark): the other compatibility events, JWT auth,
// connection-state recovery, admin HTTP routes, TURN credentials.
//
// Env: PORT (3001), HOST (127.0.0.1), CORS_ORIGIN, MAX_MESSAGE_BYTES, MAX_SIGNAL_BYTES,
// MAX_ROOM_USERS, RING_TIMEOUT_MS, RATE_LIMIT_PER_SEC (0 = off), RATE_LIMIT_BURST,
// MAX_CONNECTIONS_PER_IP, ICE_SERVERS, REDIS_URL, REDIS_KEY_PREFIX ('bare:').
//
// With REDIS_URL set, several of these processes act as one server the way a user would
// usually do it with Socket.IO: @socket.io/redis-streams-adapter (the adapter Parley uses)
// carries the broadcasts, and the state that must be seen by every node is in plain Redis
// keys (see "cluster mode" below). Without REDIS_URL, nothing of that is loaded and the
// single-node server is unchanged.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Server } from 'socket.io';

const env = process.env;
const int = (name, def) => (env[name] === undefined || env[name] === '' ? def : Number.parseInt(env[name], 10));
const PORT = int('PORT', 3001);
const HOST = env.HOST || '127.0.0.1';
const CORS_ORIGIN = (env.CORS_ORIGIN || 'http://localhost:3000').split(',').map((s) => s.trim());
const MAX_MESSAGE_BYTES = int('MAX_MESSAGE_BYTES', 65536);
const MAX_SIGNAL_BYTES = int('MAX_SIGNAL_BYTES', 65536);
const MAX_ROOM_USERS = int('MAX_ROOM_USERS', 500);
const RING_TIMEOUT_MS = int('RING_TIMEOUT_MS', 30000);
const RATE_LIMIT_PER_SEC = int('RATE_LIMIT_PER_SEC', 50);
const RATE_LIMIT_BURST = int('RATE_LIMIT_BURST', 100);
const MAX_CONNECTIONS_PER_IP = int('MAX_CONNECTIONS_PER_IP', 1000);
const ICE_SERVERS = env.ICE_SERVERS ? JSON.parse(env.ICE_SERVERS) : [];
// the compatibility section's room events (user-connected / user-disconnected), on by default as in Parley
const COMPAT_EVENTS = env.COMPAT_EVENTS !== 'false';
const REDIS_URL = env.REDIS_URL || '';
const PREFIX = env.REDIS_KEY_PREFIX || 'bare:';

// Loaded only in cluster mode, so the single-node process (its start-up heap included) is
// the same as without this option.
/** @type {import('ioredis').Redis | undefined} */
let redis;
/** @type {ReturnType<typeof import('@socket.io/redis-streams-adapter').createAdapter> | undefined} */
let adapter;
if (REDIS_URL) {
  const [{ Redis }, { createAdapter }] = await Promise.all([
    import('ioredis'),
    import('@socket.io/redis-streams-adapter'),
  ]);
  redis = new Redis(REDIS_URL);
  await new Promise((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  // the stream and channels under the prefix, as Parley names them, so runs never mix
  adapter = createAdapter(redis, { streamName: `${PREFIX}socket.io`, channelPrefix: `${PREFIX}socket.io` });
}

const httpServer = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  res.writeHead(404).end();
});
const io = new Server(httpServer, {
  cors: { origin: CORS_ORIGIN },
  serveClient: false,
  ...(adapter ? { adapter } : {}),
});
const sockets = io.of('/').sockets;

// ---- state -------------------------------------------------------------------------
/** room -> { users: Map<socketId, User>, names: Set<lowercased name> } */
const rooms = new Map();
/** "idA|idB" (sorted) -> { caller, callee, active, timer } */
const calls = new Map();
/** socketId -> Set<peer socketId> with a pending or active call */
const peersOf = new Map();
const perIp = new Map();

// ---- helpers -----------------------------------------------------------------------
class Refusal {
  constructor(code, error) {
    this.code = code;
    this.error = error;
  }
}
const refuse = (code, error) => {
  throw new Refusal(code, error);
};
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Trimmed text of 1..max code points without control characters, else VALIDATION. */
function text(value, field, max) {
  if (typeof value !== 'string') refuse('VALIDATION', `${field} must be a string`);
  const s = value.trim();
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) refuse('VALIDATION', `${field} must not contain control characters`);
    if (c < 0xdc00 || c > 0xdfff || i === 0 || s.charCodeAt(i - 1) < 0xd800 || s.charCodeAt(i - 1) > 0xdbff) n++;
  }
  if (n < 1 || n > max) refuse('VALIDATION', `${field} must be 1 to ${max} characters`);
  return s;
}
function target(value, field) {
  if (typeof value !== 'string' || value.length === 0) refuse('VALIDATION', `${field} must be a socket id`);
  return value;
}
function opaque(value, field) {
  const json = JSON.stringify(value);
  if (json === undefined) refuse('VALIDATION', `${field} must be a JSON value`);
  if (json.length > MAX_SIGNAL_BYTES || Buffer.byteLength(json) > MAX_SIGNAL_BYTES) {
    refuse('PAYLOAD_TOO_LARGE', `${field} is larger than ${MAX_SIGNAL_BYTES} bytes`);
  }
  return value;
}
const pairKey = (a, b) => (a < b ? `${a}|${b}` : `${b}|${a}`);
function needCall(socket, to) {
  const call = calls.get(pairKey(socket.id, to));
  if (!call) refuse('NO_CALL', `no call with ${to}`);
  return call;
}
function needPeer(to) {
  const peer = sockets.get(to);
  if (!peer) refuse('NOT_FOUND', `user ${to} is not connected`);
  return peer;
}
function endCall(call) {
  calls.delete(pairKey(call.caller, call.callee));
  clearTimeout(call.timer);
  peersOf.get(call.caller)?.delete(call.callee);
  peersOf.get(call.callee)?.delete(call.caller);
}
const usersOf = (room) => [...rooms.get(room).users.values()];

// The checks of each request's payload, shared by the single-node and the cluster handlers.
function loginInput(socket, p) {
  if (!isObject(p)) refuse('VALIDATION', 'payload must be an object with name and room');
  const name = text(p.name, 'name', 32);
  const room = text(p.room, 'room', 64);
  if (p.publicKey !== undefined && (typeof p.publicKey !== 'string' || p.publicKey.length > 2048)) {
    refuse('VALIDATION', 'publicKey must be a string of at most 2048 characters');
  }
  if (socket.data.user) refuse('ALREADY_LOGGED_IN', 'this socket is already logged in');
  return { name, room, publicKey: p.publicKey };
}
const joinNotice = (user) => ({
  type: 'join',
  title: "Someone's here",
  description: `${user.name} just entered the room`,
  user,
  at: Date.now(),
});
const leaveNotice = (user) => ({
  type: 'leave',
  title: 'Someone left',
  description: `${user.name} left the room`,
  user,
  at: Date.now(),
});
function newUser(socket, name, room, publicKey) {
  const user = { id: socket.id, name, room };
  if (publicKey !== undefined) user.publicKey = publicKey;
  user.joinedAt = Date.now();
  return user;
}
/** The callee and the `call` event it gets. */
function callInput(socket, p) {
  if (!isObject(p)) refuse('VALIDATION', 'payload must be an object with userToCall');
  const to = target(p.userToCall !== undefined ? p.userToCall : p.to, 'userToCall');
  const name = p.name !== undefined ? text(p.name, 'name', 32) : socket.data.user?.name;
  if (p.signal !== undefined) opaque(p.signal, 'signal');
  if (to === socket.id) refuse('SELF_CALL', 'you cannot call yourself');
  const out = { from: socket.id };
  if (name !== undefined) out.name = name;
  if (p.signal !== undefined) out.signal = p.signal;
  return { to, out };
}
function answerInput(p) {
  if (!isObject(p)) refuse('VALIDATION', 'payload must be an object with to');
  const to = target(p.to, 'to');
  const hasSignal = p.signal !== undefined;
  if (hasSignal === (p.sdp !== undefined)) refuse('VALIDATION', 'give exactly one of signal and sdp');
  if (hasSignal) opaque(p.signal, 'signal');
  else opaque(p.sdp, 'sdp');
  return { to, hasSignal };
}
function relayInput(p, field) {
  if (!isObject(p)) refuse('VALIDATION', 'payload must be an object with to');
  const to = target(p.to, 'to');
  if (p[field] === undefined) refuse('VALIDATION', `${field} is required`);
  opaque(p[field], field);
  return to;
}

function leaveRoom(socket, user) {
  const r = rooms.get(user.room);
  r.users.delete(socket.id);
  r.names.delete(user.name.toLowerCase());
  socket.data.user = undefined;
  socket.leave(user.room);
  if (r.users.size === 0) {
    rooms.delete(user.room);
    return;
  }
  io.to(user.room).emit('notification', leaveNotice(user));
  io.to(user.room).emit('users', usersOf(user.room));
  if (COMPAT_EVENTS) io.to(user.room).emit('user-disconnected', { message: `${user.name} left the room`, user });
}

// ---- handlers ----------------------------------------------------------------------
const handlers = {
  login(socket, p) {
    const { name, room, publicKey } = loginInput(socket, p);
    const key = name.toLowerCase();
    let r = rooms.get(room);
    if (r && r.names.has(key)) refuse('NAME_TAKEN', `the name ${name} is taken in this room`);
    if (r && r.users.size >= MAX_ROOM_USERS) refuse('ROOM_FULL', `room ${room} is full`);
    if (!r) rooms.set(room, (r = { users: new Map(), names: new Set() }));
    const user = newUser(socket, name, room, publicKey);
    r.users.set(socket.id, user);
    r.names.add(key);
    socket.data.user = user;
    socket.join(room);
    socket.to(room).emit('notification', joinNotice(user));
    io.to(room).emit('users', usersOf(room));
    if (COMPAT_EVENTS) socket.to(room).emit('user-connected', { message: `${name} joined the room`, user });
    return { user };
  },

  logout(socket) {
    const user = socket.data.user;
    if (!user) refuse('NOT_LOGGED_IN', 'log in first');
    leaveRoom(socket, user);
    return {};
  },

  roomMessage(socket, p) {
    const message = typeof p === 'string' ? p : isObject(p) ? p.message : undefined;
    if (typeof message !== 'string' || message.length === 0) refuse('VALIDATION', 'message must be a non-empty string');
    if (message.length > MAX_MESSAGE_BYTES || Buffer.byteLength(message) > MAX_MESSAGE_BYTES) {
      refuse('PAYLOAD_TOO_LARGE', `message is larger than ${MAX_MESSAGE_BYTES} bytes`);
    }
    const user = socket.data.user;
    if (!user) refuse('NOT_LOGGED_IN', 'log in first');
    const id = randomUUID();
    const at = Date.now();
    io.to(user.room).emit('roomMessage', { id, room: user.room, message, from: user.name, fromId: socket.id, at });
    return { id, at };
  },

  listUsers(socket) {
    const user = socket.data.user;
    if (!user) refuse('NOT_LOGGED_IN', 'log in first');
    return { users: usersOf(user.room) };
  },

  ping(socket) {
    return socket.id;
  },

  iceServers() {
    return { iceServers: ICE_SERVERS };
  },

  call(socket, p) {
    const { to, out } = callInput(socket, p);
    const peer = needPeer(to);
    const key = pairKey(socket.id, to);
    if (calls.has(key)) refuse('ALREADY_IN_CALL', `already in a call with ${to}`);
    const call = { caller: socket.id, callee: to, active: false, timer: undefined };
    call.timer = setTimeout(() => {
      endCall(call);
      sockets.get(call.caller)?.emit('ended', { from: call.callee, reason: 'timeout' });
      sockets.get(call.callee)?.emit('ended', { from: call.caller, reason: 'timeout' });
    }, RING_TIMEOUT_MS);
    calls.set(key, call);
    peersOf.get(socket.id).add(to);
    peersOf.get(to).add(socket.id);
    peer.emit('call', out);
    return {};
  },

  answer(socket, p) {
    const { to, hasSignal } = answerInput(p);
    const call = needCall(socket, to);
    const peer = sockets.get(to);
    if (call.timer) {
      clearTimeout(call.timer);
      call.timer = undefined;
    }
    call.active = true;
    if (hasSignal) peer.emit('accepted', p.signal);
    else peer.emit('answer', { sdp: p.sdp, socketId: socket.id, from: socket.id });
    return {};
  },

  offer: relay('sdp', (p, from) => ['offer', { sdp: p.sdp, socketId: from, from }]),
  candidate: relay('candidate', (p, from) => ['candidate', { candidate: p.candidate, from }]),
  signal: relay('signal', (p, from) => ['signal', { signal: p.signal, from }]),

  hangup(socket, p) {
    if (!isObject(p)) refuse('VALIDATION', 'payload must be an object with to');
    const to = target(p.to, 'to');
    const call = needCall(socket, to);
    endCall(call);
    sockets.get(to)?.emit('ended', { from: socket.id, reason: 'hangup' });
    return {};
  },
};

function relay(field, build) {
  return (socket, p) => {
    const to = relayInput(p, field);
    const peer = needPeer(to);
    needCall(socket, to);
    const [event, out] = build(p, socket.id);
    peer.emit(event, out);
    return {};
  };
}

// ---- cluster mode (REDIS_URL) ------------------------------------------------------
// What a user would typically write for several nodes: the adapter carries room broadcasts
// and io.to(socketId) emits to every node; who is connected, each room's members and names,
// and the calls are plain Redis keys every node reads. The checks and their order are the
// same as on one node, but as check-then-set commands, not atomic across nodes (Parley uses
// Lua scripts for that), and the per-IP connection count stays per node: a fair "no
// framework" baseline, not a product.
const keys = {
  sock: (id) => `${PREFIX}sock:${id}`,
  members: (room) => `${PREFIX}room:${room}:users`,
  names: (room) => `${PREFIX}room:${room}:names`,
  call: (a, b) => `${PREFIX}call:${pairKey(a, b)}`,
};
/** Ring timers of the calls this node's sockets started, by pair key. */
const ringTimers = new Map();

async function clusterUsers(room) {
  return (await redis.hvals(keys.members(room))).map((u) => JSON.parse(u));
}
async function clusterLeave(socket, user) {
  socket.data.user = undefined;
  socket.leave(user.room);
  // one connection answers in order: the count is taken after both removals
  const [, , left] = await Promise.all([
    redis.hdel(keys.members(user.room), socket.id),
    redis.hdel(keys.names(user.room), user.name.toLowerCase()),
    redis.hlen(keys.members(user.room)),
  ]);
  if (left === 0) return;
  io.to(user.room).emit('notification', leaveNotice(user));
  io.to(user.room).emit('users', await clusterUsers(user.room));
  if (COMPAT_EVENTS) io.to(user.room).emit('user-disconnected', { message: `${user.name} left the room`, user });
}
/** Ends the pair's call if there is one; true when this request ended it. */
async function clusterEndCall(a, b) {
  const pair = pairKey(a, b);
  clearTimeout(ringTimers.get(pair));
  ringTimers.delete(pair);
  peersOf.get(a)?.delete(b);
  return (await redis.del(keys.call(a, b))) === 1;
}
const loggedIn = (socket) => socket.data.user ?? refuse('NOT_LOGGED_IN', 'log in first');

const clusterHandlers = {
  async login(socket, p) {
    const { name, room, publicKey } = loginInput(socket, p);
    const user = newUser(socket, name, room, publicKey);
    // held while the Redis answers are awaited, so a second login of this socket is refused
    socket.data.user = user;
    try {
      if (!(await redis.hsetnx(keys.names(room), name.toLowerCase(), socket.id))) {
        refuse('NAME_TAKEN', `the name ${name} is taken in this room`);
      }
      if ((await redis.hlen(keys.members(room))) >= MAX_ROOM_USERS) {
        await redis.hdel(keys.names(room), name.toLowerCase());
        refuse('ROOM_FULL', `room ${room} is full`);
      }
      await redis.hset(keys.members(room), socket.id, JSON.stringify(user));
    } catch (err) {
      socket.data.user = undefined;
      throw err;
    }
    socket.join(room);
    socket.to(room).emit('notification', joinNotice(user));
    io.to(room).emit('users', await clusterUsers(room));
    if (COMPAT_EVENTS) socket.to(room).emit('user-connected', { message: `${name} joined the room`, user });
    return { user };
  },

  async logout(socket) {
    await clusterLeave(socket, loggedIn(socket));
    return {};
  },

  async listUsers(socket) {
    return { users: await clusterUsers(loggedIn(socket).room) };
  },

  async call(socket, p) {
    const { to, out } = callInput(socket, p);
    if (!(await redis.exists(keys.sock(to)))) refuse('NOT_FOUND', `user ${to} is not connected`);
    if (!(await redis.set(keys.call(socket.id, to), 'ringing', 'NX'))) {
      refuse('ALREADY_IN_CALL', `already in a call with ${to}`);
    }
    const caller = socket.id;
    peersOf.get(caller)?.add(to);
    const pair = pairKey(caller, to);
    ringTimers.set(
      pair,
      setTimeout(async () => {
        ringTimers.delete(pair);
        if ((await redis.get(keys.call(caller, to))) !== 'ringing') return;
        if (!(await clusterEndCall(caller, to))) return;
        io.to(caller).emit('ended', { from: to, reason: 'timeout' });
        io.to(to).emit('ended', { from: caller, reason: 'timeout' });
      }, RING_TIMEOUT_MS),
    );
    io.to(to).emit('call', out);
    return {};
  },

  async answer(socket, p) {
    const { to, hasSignal } = answerInput(p);
    // XX: only a call that exists becomes active (the ring timer then finds it answered)
    if (!(await redis.set(keys.call(socket.id, to), 'active', 'XX'))) refuse('NO_CALL', `no call with ${to}`);
    peersOf.get(socket.id)?.add(to);
    if (hasSignal) io.to(to).emit('accepted', p.signal);
    else io.to(to).emit('answer', { sdp: p.sdp, socketId: socket.id, from: socket.id });
    return {};
  },

  offer: clusterRelay('sdp', (p, from) => ['offer', { sdp: p.sdp, socketId: from, from }]),
  candidate: clusterRelay('candidate', (p, from) => ['candidate', { candidate: p.candidate, from }]),
  signal: clusterRelay('signal', (p, from) => ['signal', { signal: p.signal, from }]),

  async hangup(socket, p) {
    if (!isObject(p)) refuse('VALIDATION', 'payload must be an object with to');
    const to = target(p.to, 'to');
    if (!(await clusterEndCall(socket.id, to))) refuse('NO_CALL', `no call with ${to}`);
    io.to(to).emit('ended', { from: socket.id, reason: 'hangup' });
    return {};
  },
};

function clusterRelay(field, build) {
  return async (socket, p) => {
    const to = relayInput(p, field);
    const [peer, call] = await Promise.all([redis.exists(keys.sock(to)), redis.exists(keys.call(socket.id, to))]);
    if (!peer) refuse('NOT_FOUND', `user ${to} is not connected`);
    if (!call) refuse('NO_CALL', `no call with ${to}`);
    const [event, out] = build(p, socket.id);
    io.to(to).emit(event, out);
    return {};
  };
}

async function clusterDisconnect(socket) {
  await redis.del(keys.sock(socket.id));
  const user = socket.data.user;
  if (user) await clusterLeave(socket, user);
  for (const peerId of [...peersOf.get(socket.id)]) {
    if (await clusterEndCall(socket.id, peerId))
      io.to(peerId).emit('ended', { from: socket.id, reason: 'disconnected' });
  }
  peersOf.delete(socket.id);
}

// roomMessage, ping and iceServers need nothing shared: the single-node handlers serve
if (redis) Object.assign(handlers, clusterHandlers);

// ---- wiring ------------------------------------------------------------------------
io.use((socket, next) => {
  const ip = socket.handshake.address;
  const n = perIp.get(ip) || 0;
  if (n >= MAX_CONNECTIONS_PER_IP) return next(new Error('TOO_MANY_CONNECTIONS'));
  perIp.set(ip, n + 1);
  socket.data.ip = ip;
  next();
});
if (redis) {
  // a socket is callable from every node once its connection is recorded
  io.use((socket, next) => {
    redis.set(keys.sock(socket.id), '1').then(
      () => next(),
      (err) => next(err),
    );
  });
}

/** The reply to a refused request (or the `exception` event when it has no ack). */
function refused(socket, event, ack, err) {
  if (!(err instanceof Refusal)) {
    // in cluster mode: Redis failed the request
    if (!redis) throw err;
    console.error(err);
    err = new Refusal('UNAVAILABLE', 'try again later');
  }
  const body = { error: err.error, code: err.code };
  if (ack) ack(body);
  else socket.emit('exception', { event, ...body });
}

const events = Object.keys(handlers);
io.on('connection', (socket) => {
  peersOf.set(socket.id, new Set());
  let tokens = RATE_LIMIT_BURST;
  let last = Date.now();
  for (const event of events) {
    const handler = handlers[event];
    socket.on(event, (...args) => {
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
      try {
        if (RATE_LIMIT_PER_SEC > 0) {
          const now = Date.now();
          tokens = Math.min(RATE_LIMIT_BURST, tokens + ((now - last) * RATE_LIMIT_PER_SEC) / 1000);
          last = now;
          if (tokens < 1) refuse('RATE_LIMITED', 'too many events, slow down');
          tokens -= 1;
        }
        const result = handler(socket, args[0]);
        // the cluster handlers answer when Redis has
        if (result instanceof Promise) {
          result.then(
            (v) => ack?.(v),
            (err) => refused(socket, event, ack, err),
          );
        } else if (ack) ack(result);
      } catch (err) {
        refused(socket, event, ack, err);
      }
    });
  }
  socket.on('disconnect', () => {
    const ip = socket.data.ip;
    const n = perIp.get(ip) - 1;
    if (n > 0) perIp.set(ip, n);
    else perIp.delete(ip);
    if (redis) {
      clusterDisconnect(socket).catch((err) => console.error(err));
      return;
    }
    const user = socket.data.user;
    if (user) leaveRoom(socket, user);
    for (const peerId of peersOf.get(socket.id)) {
      const call = calls.get(pairKey(socket.id, peerId));
      if (call) endCall(call);
      sockets.get(peerId)?.emit('ended', { from: socket.id, reason: 'disconnected' });
    }
    peersOf.delete(socket.id);
  });
  socket.emit('me', socket.id);
});

httpServer.listen(PORT, HOST, () => {
  console.log(`bare-socketio listening on ${HOST}:${PORT}`);
});
const stop = () => {
  io.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
