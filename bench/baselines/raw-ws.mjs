// Raw `ws` baseline for the Parley benchmark: the practical ceiling. The same chat and
// call-signaling events and checks as PROTOCOL.md (v1) and bare-socketio.mjs, over plain
// WebSocket with JSON text frames instead of the Socket.IO protocol:
//   client -> server  {"e": event, "d": payload, "a": ackId?}
//   server -> client  {"e": event, "d": payload}   or, for an ack,  {"a": ackId, "d": value}
// A room broadcast is serialised once into one Buffer and written to every member. Like
// Parley's default, the compatibility room events user-connected / user-disconnected are sent
// (COMPAT_EVENTS=false turns them off); the other compatibility events are not implemented.
//
// Env: PORT (3001), HOST (127.0.0.1), MAX_MESSAGE_BYTES, MAX_SIGNAL_BYTES, MAX_ROOM_USERS,
// RING_TIMEOUT_MS, RATE_LIMIT_PER_SEC (0 = off), RATE_LIMIT_BURST, MAX_CONNECTIONS_PER_IP,
// ICE_SERVERS.
import { createServer } from 'node:http';
import { randomUUID, randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';

const env = process.env;
const int = (name, def) => (env[name] === undefined || env[name] === '' ? def : Number.parseInt(env[name], 10));
const PORT = int('PORT', 3001);
const HOST = env.HOST || '127.0.0.1';
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

const httpServer = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false, maxPayload: 1e6 });

// ---- state -------------------------------------------------------------------------
/** socketId -> Conn */
const sockets = new Map();
/** room -> Set<Conn> (transport membership) */
const members = new Map();
/** room -> { users: Map<socketId, User>, names: Set<lowercased name> } */
const rooms = new Map();
/** "idA|idB" (sorted) -> { caller, callee, active, timer } */
const calls = new Map();
/** socketId -> Set<peer socketId> with a pending or active call */
const peersOf = new Map();
const perIp = new Map();

class Conn {
  constructor(ws) {
    this.ws = ws;
    this.id = randomBytes(15).toString('base64url');
    this.data = {};
  }
  emit(event, d) {
    if (this.ws.readyState === 1) this.ws.send(JSON.stringify({ e: event, d }));
  }
}
function join(socket, room) {
  let set = members.get(room);
  if (!set) members.set(room, (set = new Set()));
  set.add(socket);
}
function leave(socket, room) {
  const set = members.get(room);
  if (!set) return;
  set.delete(socket);
  if (set.size === 0) members.delete(room);
}
/** Serialise once, write the same buffer to every member (but `except`). */
function broadcast(room, event, d, except) {
  const set = members.get(room);
  if (!set) return;
  const frame = Buffer.from(JSON.stringify({ e: event, d }));
  for (const c of set) if (c !== except && c.ws.readyState === 1) c.ws.send(frame, { binary: false });
}

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

function leaveRoom(socket, user) {
  const r = rooms.get(user.room);
  r.users.delete(socket.id);
  r.names.delete(user.name.toLowerCase());
  socket.data.user = undefined;
  leave(socket, user.room);
  if (r.users.size === 0) {
    rooms.delete(user.room);
    return;
  }
  broadcast(user.room, 'notification', {
    type: 'leave',
    title: 'Someone left',
    description: `${user.name} left the room`,
    user,
    at: Date.now(),
  });
  broadcast(user.room, 'users', usersOf(user.room));
  if (COMPAT_EVENTS) broadcast(user.room, 'user-disconnected', { message: `${user.name} left the room`, user });
}

// ---- handlers ----------------------------------------------------------------------
const handlers = {
  login(socket, p) {
    if (!isObject(p)) refuse('VALIDATION', 'payload must be an object with name and room');
    const name = text(p.name, 'name', 32);
    const room = text(p.room, 'room', 64);
    if (p.publicKey !== undefined && (typeof p.publicKey !== 'string' || p.publicKey.length > 2048)) {
      refuse('VALIDATION', 'publicKey must be a string of at most 2048 characters');
    }
    if (socket.data.user) refuse('ALREADY_LOGGED_IN', 'this socket is already logged in');
    const key = name.toLowerCase();
    let r = rooms.get(room);
    if (r && r.names.has(key)) refuse('NAME_TAKEN', `the name ${name} is taken in this room`);
    if (r && r.users.size >= MAX_ROOM_USERS) refuse('ROOM_FULL', `room ${room} is full`);
    if (!r) rooms.set(room, (r = { users: new Map(), names: new Set() }));
    const user = { id: socket.id, name, room };
    if (p.publicKey !== undefined) user.publicKey = p.publicKey;
    user.joinedAt = Date.now();
    r.users.set(socket.id, user);
    r.names.add(key);
    socket.data.user = user;
    join(socket, room);
    broadcast(
      room,
      'notification',
      {
        type: 'join',
        title: "Someone's here",
        description: `${name} just entered the room`,
        user,
        at: Date.now(),
      },
      socket,
    );
    broadcast(room, 'users', usersOf(room));
    if (COMPAT_EVENTS) broadcast(room, 'user-connected', { message: `${name} joined the room`, user }, socket);
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
    broadcast(user.room, 'roomMessage', { id, room: user.room, message, from: user.name, fromId: socket.id, at });
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
    if (!isObject(p)) refuse('VALIDATION', 'payload must be an object with userToCall');
    const to = target(p.userToCall !== undefined ? p.userToCall : p.to, 'userToCall');
    const name = p.name !== undefined ? text(p.name, 'name', 32) : socket.data.user?.name;
    if (p.signal !== undefined) opaque(p.signal, 'signal');
    if (to === socket.id) refuse('SELF_CALL', 'you cannot call yourself');
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
    const out = { from: socket.id };
    if (name !== undefined) out.name = name;
    if (p.signal !== undefined) out.signal = p.signal;
    peer.emit('call', out);
    return {};
  },

  answer(socket, p) {
    if (!isObject(p)) refuse('VALIDATION', 'payload must be an object with to');
    const to = target(p.to, 'to');
    const hasSignal = p.signal !== undefined;
    if (hasSignal === (p.sdp !== undefined)) refuse('VALIDATION', 'give exactly one of signal and sdp');
    if (hasSignal) opaque(p.signal, 'signal');
    else opaque(p.sdp, 'sdp');
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
    if (!isObject(p)) refuse('VALIDATION', 'payload must be an object with to');
    const to = target(p.to, 'to');
    if (p[field] === undefined) refuse('VALIDATION', `${field} is required`);
    opaque(p[field], field);
    const peer = needPeer(to);
    needCall(socket, to);
    const [event, out] = build(p, socket.id);
    peer.emit(event, out);
    return {};
  };
}

// ---- wiring ------------------------------------------------------------------------
wss.on('connection', (ws, req) => {
  const ip = req.socket.remoteAddress;
  const n = perIp.get(ip) || 0;
  if (n >= MAX_CONNECTIONS_PER_IP) {
    ws.close(1008, 'TOO_MANY_CONNECTIONS');
    return;
  }
  perIp.set(ip, n + 1);
  const socket = new Conn(ws);
  sockets.set(socket.id, socket);
  peersOf.set(socket.id, new Set());
  let tokens = RATE_LIMIT_BURST;
  let last = Date.now();

  ws.on('message', (data, isBinary) => {
    let frame;
    try {
      frame = JSON.parse(isBinary ? '' : data.toString());
    } catch {
      frame = undefined;
    }
    const event = isObject(frame) && typeof frame.e === 'string' ? frame.e : undefined;
    const ackId = isObject(frame) ? frame.a : undefined;
    const reply = (value) => {
      if (ackId !== undefined && ws.readyState === 1) ws.send(JSON.stringify({ a: ackId, d: value }));
    };
    try {
      if (RATE_LIMIT_PER_SEC > 0) {
        const now = Date.now();
        tokens = Math.min(RATE_LIMIT_BURST, tokens + ((now - last) * RATE_LIMIT_PER_SEC) / 1000);
        last = now;
        if (tokens < 1) refuse('RATE_LIMITED', 'too many events, slow down');
        tokens -= 1;
      }
      if (event === undefined) refuse('VALIDATION', 'a frame must be {"e": event, "d": payload, "a"?: ackId}');
      const handler = Object.hasOwn(handlers, event) ? handlers[event] : undefined;
      if (!handler) return;
      reply(handler(socket, frame.d));
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      const body = { error: err.error, code: err.code };
      if (ackId !== undefined) reply(body);
      else socket.emit('exception', { event: event ?? null, ...body });
    }
  });

  ws.on('close', () => {
    const left = perIp.get(ip) - 1;
    if (left > 0) perIp.set(ip, left);
    else perIp.delete(ip);
    sockets.delete(socket.id);
    const user = socket.data.user;
    if (user) leaveRoom(socket, user);
    for (const peerId of peersOf.get(socket.id)) {
      const call = calls.get(pairKey(socket.id, peerId));
      if (call) endCall(call);
      sockets.get(peerId)?.emit('ended', { from: socket.id, reason: 'disconnected' });
    }
    peersOf.delete(socket.id);
  });
  ws.on('error', () => {});
  socket.emit('me', socket.id);
});

httpServer.listen(PORT, HOST, () => {
  console.log(`raw-ws listening on ${HOST}:${PORT}`);
});
const stop = () => {
  wss.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
