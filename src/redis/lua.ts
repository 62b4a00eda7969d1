import { luaKeyFunctions } from './redis.constants.js';
/**
 * The Lua scripts behind every multi-key change, registered with ioredis `defineCommand`
 * (EVALSHA, with EVAL when Redis forgot the script, e.g. after a restart). Each runs
 * atomically, so concurrent requests on several nodes see all of a change or none of it.
 *
 * Conventions: ARGV[1] is always the key prefix; a key a script computes from stored values
 * comes from a generated `key_<name>(prefix, …)` function (KEY_TEMPLATES in
 * redis.constants.ts, which RedisKeys uses too), never spelt in the script; every entry records its
 * owning node and is indexed in `node:<node>:<kind>`, and the node is added to `owners` in
 * the same script.
 */
export interface ScriptDef {
  numberOfKeys: number;
  lua: string;
}

/**
 * Prepends the fence every script runs first: the caller passes its deadline in Redis
 * milliseconds as ARGV[1] (removed before the script proper sees ARGV, so the prefix stays
 * ARGV[1]); past it the script refuses with an error and changes nothing. A command that a
 * partition held back and delivered after its caller was told UNAVAILABLE must not take
 * effect then.
 */
export function fenced(def: ScriptDef): ScriptDef {
  return { numberOfKeys: def.numberOfKeys, lua: FENCE + KEY_FUNCTIONS + def.lua };
}

/** The key-name functions every script may call (generated from KEY_TEMPLATES). */
const KEY_FUNCTIONS = `\n${luaKeyFunctions()}\n`;

const FENCE = `
local fence_deadline = tonumber(table.remove(ARGV, 1))
local fence_now = redis.call('TIME')
if fence_deadline and tonumber(fence_now[1]) * 1000 + math.floor(tonumber(fence_now[2]) / 1000) > fence_deadline then
  return redis.error_reply('PARLEY_FENCED the caller has given up on this script')
end
`;

/**
 * KEYS[1]: the adapter's stream; ARGV: the XADD arguments after the key. The fenced XADD
 * of the Socket.IO adapter's broadcasts (see RedisIoAdapter).
 */
export const XADD_SCRIPT: ScriptDef = fenced({
  numberOfKeys: 1,
  lua: `return redis.call('XADD', KEYS[1], unpack(ARGV))`,
});

/**
 * The same XADD, for a call signal to a socket on another node, only when the target is
 * connected (KEYS[2], its `conn` entry) and the pair has a pending or active call (KEYS[3],
 * its `call` hash): the checks and the publish in one command, with nothing in between.
 * Refuses with `PARLEY_REFUSED <code>` (NOT_FOUND, then NO_CALL, the order of the checks on
 * one node), publishing nothing.
 */
export const RELAY_XADD_SCRIPT: ScriptDef = fenced({
  numberOfKeys: 3,
  lua: `
if redis.call('EXISTS', KEYS[2]) == 0 then return redis.error_reply('PARLEY_REFUSED NOT_FOUND') end
local status = redis.call('HGET', KEYS[3], 'status')
if status ~= 'pending' and status ~= 'active' then return redis.error_reply('PARLEY_REFUSED NO_CALL') end
return redis.call('XADD', KEYS[1], unpack(ARGV))`,
});

/**
 * Room history (see RedisHistoryStoreService): a hash `hmeta` (epoch, offset, bytes) and a
 * list of entries `<offset>|<bytes>|<at>|<json>` in offset order, both keys of a room under
 * its hash tag. Shared prologue: the room's epoch (a new one, and an empty list, when the
 * meta hash is gone: Redis lost the room or forgot it), then the age trim from the head.
 * Sets: epoch, latest, len, total, aged. Needs ARGV[2] newEpoch, ARGV[3] now, ARGV[4] ttlMs.
 */
const HISTORY_PROLOGUE = `
local meta, hist = KEYS[1], KEYS[2]
local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('DEL', hist)
  redis.call('HSET', meta, 'epoch', epoch, 'offset', 0, 'bytes', 0)
end
local latest = tonumber(redis.call('HGET', meta, 'offset')) or 0
local len = redis.call('LLEN', hist)
local total = 0
if len > 0 then total = tonumber(redis.call('HGET', meta, 'bytes')) or 0 end
local aged = 0
local cutoff = now - ttl
while len > 0 do
  local b, t = string.match(redis.call('LINDEX', hist, 0), '^%d+|(%d+)|(%d+)|')
  if tonumber(t) > cutoff then break end
  redis.call('LPOP', hist)
  total = total - tonumber(b)
  len = len - 1
  aged = aged + 1
end
`;

/**
 * The append proper, after HISTORY_PROLOGUE: the next offset, then the message appended
 * and the list trimmed by count and bytes (oldest first), TTLs refreshed. Sets offset,
 * byCount, byBytes. Needs ARGV[3] now, ARGV[4] ttlMs, ARGV[5] bytes, ARGV[6] draftJson,
 * ARGV[7] size, ARGV[8] roomBytes.
 */
const HISTORY_APPEND = `
local offset = redis.call('HINCRBY', meta, 'offset', 1)
local size, cap, bytes = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[5])
local byCount, byBytes = 0, 0
if size > 0 then
  redis.call('RPUSH', hist, offset .. '|' .. ARGV[5] .. '|' .. ARGV[3] .. '|' .. ARGV[6])
  len = len + 1
  total = total + bytes
  while len > 0 and (len > size or total > cap) do
    if len > size then byCount = byCount + 1 else byBytes = byBytes + 1 end
    local b = string.match(redis.call('LPOP', hist), '^%d+|(%d+)|')
    total = total - tonumber(b)
    len = len - 1
  end
end
redis.call('HSET', meta, 'bytes', total)
if len > 0 then redis.call('PEXPIRE', hist, ttl) else redis.call('DEL', hist) end
if redis.call('PTTL', meta) ~= -1 then redis.call('PEXPIRE', meta, ttl) end
`;

/**
 * KEYS: roomHistoryMeta, roomHistory, the adapter's stream
 * ARGV: as parleyHistoryAppend (ARGV[1..8]), then the adapter's XADD arguments
 * A room message's history append and its broadcast in one command (see PublishCondition
 * `place`): the offset is assigned, the message retained, and the broadcast published with
 * the offset and epoch filled in, so offsets follow the stream's order on every node. The
 * broadcast's JSON carries the draft's `"offset":0,"epoch":""`; only JSON syntax can spell
 * that (inside a JSON string every quote is escaped), so it is found as plain text. A
 * broadcast without it is refused before anything is written.
 * → {epoch, offset, evictedByCount, evictedByBytes, evictedByAge, streamId}
 */
export const PLACE_XADD_SCRIPT: ScriptDef = fenced({
  numberOfKeys: 3,
  lua:
    `
local PLACEHOLDER = '"offset":0,"epoch":""'
local xadd, data = {}, nil
for i = 9, #ARGV do xadd[#xadd + 1] = ARGV[i] end
for i = 1, #xadd - 1 do
  if xadd[i] == 'data' then data = i + 1 break end
end
local at = data and string.find(xadd[data], PLACEHOLDER, 1, true)
if not at then return redis.error_reply('PARLEY_REFUSED PLACEHOLDER') end
` +
    HISTORY_PROLOGUE +
    HISTORY_APPEND +
    `
xadd[data] = string.sub(xadd[data], 1, at - 1) .. '"offset":' .. offset .. ',"epoch":"' .. epoch .. '"' ..
  string.sub(xadd[data], at + #PLACEHOLDER)
local id = redis.call('XADD', KEYS[3], unpack(xadd))
return {epoch, offset, byCount, byBytes, aged, id}
`,
});

export const SCRIPTS = {
  /**
   * KEYS: roomHistoryMeta, roomHistory
   * ARGV: prefix, newEpoch, now (the message's at), ttlMs, bytes, draftJson, size, roomBytes
   * The one place a room's offsets are assigned: the next offset, then the message
   * appended and the list trimmed by count and bytes (oldest first). A meta hash without
   * a TTL belongs to an occupied room and keeps none (see parleyHistoryVacate).
   * → {epoch, offset, evictedByCount, evictedByBytes, evictedByAge}
   */
  parleyHistoryAppend: {
    numberOfKeys: 2,
    lua:
      HISTORY_PROLOGUE +
      HISTORY_APPEND +
      `
return {epoch, offset, byCount, byBytes, aged}
`,
  },

  /**
   * KEYS: roomHistoryMeta, roomHistory
   * ARGV: prefix, newEpoch, now, ttlMs, since ('' for none), epoch ('' for none), limit
   * The `history` answer, chosen as selectHistory (history-store.service.ts) does.
   * → {epoch, latest, complete (0/1), evictedByAge, {entries…}}
   */
  parleyHistoryRead: {
    numberOfKeys: 2,
    lua:
      HISTORY_PROLOGUE +
      `
redis.call('HSET', meta, 'bytes', total)
local limit, since, asked = tonumber(ARGV[7]), ARGV[5], ARGV[6]
local from, complete
if (asked ~= '' and asked ~= epoch) or (since ~= '' and tonumber(since) > latest) then
  from = math.max(0, len - limit)
  complete = 0
else
  local after = 0
  if since ~= '' then after = tonumber(since) end
  local first = latest - len + 1
  local skipped = math.min(len, math.max(0, after - first + 1))
  local needed = latest - after
  from = math.max(skipped, len - limit)
  complete = 0
  if len - skipped >= needed and needed <= limit then complete = 1 end
end
local entries = {}
if from < len then entries = redis.call('LRANGE', hist, from, -1) end
return {epoch, latest, complete, aged, entries}
`,
  },

  /**
   * KEYS: roomHistoryMeta, roomHistory
   * ARGV: prefix, epoch ('' for the current one), offset, by (a socket id; '' for the server), now, ttlMs
   * Redacts a retained message (v1.2): the entry keeps its offset, size and time, its JSON
   * loses `message` and gains `redacted`. Never starts an epoch.
   * → {'redacted', id, epoch} | {'already', id, epoch} | {'forbidden'} | {'not-found'}
   */
  parleyHistoryRedact: {
    numberOfKeys: 2,
    lua: `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch or (ARGV[2] ~= '' and epoch ~= ARGV[2]) then return {'not-found'} end
local len = redis.call('LLEN', KEYS[2])
local latest = tonumber(redis.call('HGET', KEYS[1], 'offset')) or 0
local offset = tonumber(ARGV[3])
local first = latest - len + 1
if len == 0 or offset < first or offset > latest then return {'not-found'} end
local index = offset - first
local o, b, t, json = string.match(redis.call('LINDEX', KEYS[2], index), '^(%d+)|(%d+)|(%d+)|(.*)$')
if tonumber(o) ~= offset or tonumber(t) <= tonumber(ARGV[5]) - tonumber(ARGV[6]) then return {'not-found'} end
local m = cjson.decode(json)
if m.redacted then return {'already', m.id, epoch} end
if ARGV[4] ~= '' and m.fromId ~= ARGV[4] then return {'forbidden'} end
m.message = nil
m.redacted = true
redis.call('LSET', KEYS[2], index, o .. '|' .. b .. '|' .. t .. '|' .. cjson.encode(m))
return {'redacted', m.id, epoch}
`,
  },

  /**
   * KEYS: roomHistoryMeta, roomHistory
   * ARGV: prefix, newEpoch (unused), now, ttlMs
   * The room's last member left: with nothing retained the room is forgotten at once (its
   * next message starts a new epoch); otherwise both keys expire with its newest message.
   * → evictedByAge
   */
  parleyHistoryVacate: {
    numberOfKeys: 2,
    lua:
      `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
` +
      HISTORY_PROLOGUE +
      `
if len == 0 then
  redis.call('DEL', meta, hist)
  return aged
end
redis.call('HSET', meta, 'bytes', total)
local t = tonumber(string.match(redis.call('LINDEX', hist, -1), '^%d+|%d+|(%d+)|'))
local left = math.max(1, t + ttl - now)
redis.call('PEXPIRE', meta, left)
redis.call('PEXPIRE', hist, left)
return aged
`,
  },

  /**
   * KEYS: held
   * ARGV: prefix, token ('' for any hold)
   * → 1 when this call ended the hold, else 0 (no hold, or another drop's)
   */
  parleyHeldRelease: {
    numberOfKeys: 1,
    lua: `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if ARGV[2] ~= '' and current ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`,
  },

  /**
   * KEYS: user, roomUsers, roomNames, rooms, owners, seq
   * ARGV: prefix, id, room, nameKey, userJson, joinedAt, maxRoomUsers, node
   * → {'OK', occupied} (occupied: 1 when the room had no member before) | {'ALREADY', room} | {'TAKEN'} | {'FULL'}
   */
  parleyUserAdd: {
    numberOfKeys: 6,
    lua: `
local existing = redis.call('HGET', KEYS[1], 'room')
if existing then return {'ALREADY', existing} end
if redis.call('HEXISTS', KEYS[3], ARGV[4]) == 1 then return {'TAKEN'} end
local size = redis.call('ZCARD', KEYS[2])
if size >= tonumber(ARGV[7]) then return {'FULL'} end
local seq = redis.call('INCR', KEYS[6])
redis.call('HSET', KEYS[1], 'json', ARGV[5], 'room', ARGV[3], 'nk', ARGV[4], 'node', ARGV[8], 'seq', seq)
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[2])
redis.call('ZADD', KEYS[4], 'NX', seq, ARGV[3])
redis.call('SADD', key_owned(ARGV[1], ARGV[8], 'users'), ARGV[2])
redis.call('SADD', KEYS[5], ARGV[8])
if size == 0 then return {'OK', '1'} end
return {'OK', '0'}
`,
  },

  /**
   * KEYS: user
   * ARGV: prefix, id, expectedNode ('' for any)
   * → {userJson, vacated} (vacated: 1 when it was the room's last member), or nil when
   *   absent (or owned by another node than expected)
   */
  parleyUserRemove: {
    numberOfKeys: 1,
    lua: `
local f = redis.call('HMGET', KEYS[1], 'json', 'room', 'nk', 'node')
if not f[1] then return false end
if ARGV[3] ~= '' and f[4] ~= ARGV[3] then return false end
redis.call('DEL', KEYS[1])
local p = ARGV[1]
local ru = key_roomUsers(p, f[2])
local rn = key_roomNames(p, f[2])
redis.call('ZREM', ru, ARGV[2])
if redis.call('HGET', rn, f[3]) == ARGV[2] then redis.call('HDEL', rn, f[3]) end
local vacated = '0'
if redis.call('ZCARD', ru) == 0 then
  redis.call('ZREM', key_rooms(p), f[2])
  vacated = '1'
end
redis.call('SREM', key_owned(p, f[4], 'users'), ARGV[2])
return {f[1], vacated}
`,
  },

  /**
   * KEYS: roomUsers
   * ARGV: prefix
   * → {json1, seq1, json2, seq2, …} in joinedAt order (ties are put in join order by the caller)
   */
  parleyRoomList: {
    numberOfKeys: 1,
    lua: `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', key_user(ARGV[1], id), 'json', 'seq')
  if f[1] then
    out[#out + 1] = f[1]
    out[#out + 1] = f[2] or '0'
  end
end
return out
`,
  },

  /**
   * KEYS: rooms
   * ARGV: prefix
   * → {room1, count1, room2, count2, …} in creation order
   */
  parleyRoomsList: {
    numberOfKeys: 1,
    lua: `
local rooms = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for _, room in ipairs(rooms) do
  local n = redis.call('ZCARD', key_roomUsers(ARGV[1], room))
  if n > 0 then
    out[#out + 1] = room
    out[#out + 1] = n
  end
end
return out
`,
  },

  /**
   * A connection is (now) on this node. When another node held the id (a session recovered
   * on another node), the socket's user, lobby and peer entries move here too.
   * KEYS: conn, owners
   * ARGV: prefix, id, node
   */
  parleyConnAdd: {
    numberOfKeys: 2,
    lua: `
local p, id, node = ARGV[1], ARGV[2], ARGV[3]
local old = redis.call('GET', KEYS[1])
if old and old ~= node then
  redis.call('SREM', key_owned(p, old, 'conns'), id)
  local uk = key_user(p, id)
  local un = redis.call('HGET', uk, 'node')
  if un and un ~= node then
    redis.call('HSET', uk, 'node', node)
    redis.call('SREM', key_owned(p, un, 'users'), id)
    redis.call('SADD', key_owned(p, node, 'users'), id)
  end
  local ln = redis.call('HGET', key_lobbyOwner(p), id)
  if ln and ln ~= node then
    redis.call('HSET', key_lobbyOwner(p), id, node)
    redis.call('SREM', key_owned(p, ln, 'lobby'), id)
    redis.call('SADD', key_owned(p, node, 'lobby'), id)
  end
  local pn = redis.call('HGET', key_peersOwner(p), id)
  if pn and pn ~= node then
    redis.call('HSET', key_peersOwner(p), id, node)
    redis.call('SREM', key_owned(p, pn, 'peers'), id)
    redis.call('SADD', key_owned(p, node, 'peers'), id)
  end
end
redis.call('SET', KEYS[1], node)
redis.call('SADD', key_owned(p, node, 'conns'), id)
redis.call('SADD', KEYS[2], node)
return 1
`,
  },

  /**
   * KEYS: conn
   * ARGV: prefix, id, expectedNode ('' for any)
   * → the node that held it, or nil
   */
  parleyConnRemove: {
    numberOfKeys: 1,
    lua: `
local n = redis.call('GET', KEYS[1])
if not n then return false end
if ARGV[3] ~= '' and n ~= ARGV[3] then return false end
redis.call('DEL', KEYS[1])
redis.call('SREM', key_owned(ARGV[1], n, 'conns'), ARGV[2])
return n
`,
  },

  /**
   * KEYS: call, callerCalls, calleeCalls, owners
   * ARGV: prefix, caller, callee, pair, node, token, deadline
   * → 1 started, 0 the pair already has a call
   */
  parleyCallStart: {
    numberOfKeys: 4,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'caller', ARGV[2], 'callee', ARGV[3], 'status', 'pending', 'node', ARGV[5], 'token', ARGV[6], 'deadline', ARGV[7])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('SADD', key_owned(ARGV[1], ARGV[5], 'calls'), ARGV[4])
redis.call('SADD', KEYS[4], ARGV[5])
return 1
`,
  },

  /**
   * KEYS: call
   * → {token, statusBefore, caller, callee}, or nil when there is no call
   */
  parleyCallAccept: {
    numberOfKeys: 1,
    lua: `
local f = redis.call('HMGET', KEYS[1], 'token', 'status', 'caller', 'callee')
if not f[1] then return false end
redis.call('HSET', KEYS[1], 'status', 'active')
return {f[1], f[2], f[3], f[4]}
`,
  },

  /**
   * Ends one call. With a token, only the pending call that token started (a ring timeout).
   * KEYS: call
   * ARGV: prefix, pair, token ('' for any)
   * → {caller, callee, token} or nil
   */
  parleyCallEnd: {
    numberOfKeys: 1,
    lua: `
local f = redis.call('HMGET', KEYS[1], 'caller', 'callee', 'status', 'node', 'token')
if not f[1] then return false end
if ARGV[3] ~= '' and (f[5] ~= ARGV[3] or f[3] ~= 'pending') then return false end
local p = ARGV[1]
redis.call('DEL', KEYS[1])
redis.call('SREM', key_socketCalls(p, f[1]), ARGV[2])
redis.call('SREM', key_socketCalls(p, f[2]), ARGV[2])
redis.call('SREM', key_owned(p, f[4], 'calls'), ARGV[2])
return {f[1], f[2], f[5]}
`,
  },

  /**
   * Ends every call of a socket.
   * KEYS: socketCalls
   * ARGV: prefix, id
   * → {peer1, token1, caller1, peer2, token2, caller2, …}
   */
  parleyCallEndAll: {
    numberOfKeys: 1,
    lua: `
local p, id = ARGV[1], ARGV[2]
local out = {}
for _, pk in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local ck = key_call(p, pk)
  local f = redis.call('HMGET', ck, 'caller', 'callee', 'node', 'token')
  if f[1] then
    redis.call('DEL', ck)
    redis.call('SREM', key_socketCalls(p, f[1]), pk)
    redis.call('SREM', key_socketCalls(p, f[2]), pk)
    redis.call('SREM', key_owned(p, f[3], 'calls'), pk)
    if f[1] == id then out[#out + 1] = f[2] else out[#out + 1] = f[1] end
    out[#out + 1] = f[4]
    out[#out + 1] = f[1]
  end
end
redis.call('DEL', KEYS[1])
return out
`,
  },

  /**
   * A dead node's remaining calls (neither peer was on it) move to this node, which takes
   * over their ring timers.
   * KEYS: deadCalls, owners
   * ARGV: prefix, me
   * → {pair1, status1, token1, deadline1, caller1, callee1, …}
   */
  parleyCallAdopt: {
    numberOfKeys: 2,
    lua: `
local p, me = ARGV[1], ARGV[2]
local out = {}
for _, pk in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local ck = key_call(p, pk)
  local f = redis.call('HMGET', ck, 'status', 'token', 'deadline', 'caller', 'callee')
  if f[1] then
    redis.call('HSET', ck, 'node', me)
    redis.call('SADD', key_owned(p, me, 'calls'), pk)
    redis.call('SADD', KEYS[2], me)
    out[#out + 1] = pk
    out[#out + 1] = f[1]
    out[#out + 1] = f[2]
    out[#out + 1] = f[3] or '0'
    out[#out + 1] = f[4]
    out[#out + 1] = f[5]
  end
end
redis.call('DEL', KEYS[1])
return out
`,
  },

  /**
   * KEYS: lobby, lobbyOwner, owners
   * ARGV: prefix, id, name, node
   * → 1 when the socket was not in the lobby, else 0
   */
  parleyLobbyRegister: {
    numberOfKeys: 3,
    lua: `
local p, id, node = ARGV[1], ARGV[2], ARGV[4]
local isNew = redis.call('HSET', KEYS[1], id, ARGV[3])
local old = redis.call('HGET', KEYS[2], id)
if old and old ~= node then redis.call('SREM', key_owned(p, old, 'lobby'), id) end
redis.call('HSET', KEYS[2], id, node)
redis.call('SADD', key_owned(p, node, 'lobby'), id)
redis.call('SADD', KEYS[3], node)
return isNew
`,
  },

  /**
   * KEYS: lobby, lobbyOwner
   * ARGV: prefix, id, expectedNode ('' for any)
   * → the name, or nil
   */
  parleyLobbyUnregister: {
    numberOfKeys: 2,
    lua: `
local name = redis.call('HGET', KEYS[1], ARGV[2])
if not name then return false end
local n = redis.call('HGET', KEYS[2], ARGV[2])
if ARGV[3] ~= '' and n ~= ARGV[3] then return false end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
if n then redis.call('SREM', key_owned(ARGV[1], n, 'lobby'), ARGV[2]) end
return name
`,
  },

  /**
   * Peer ids are unique across the cluster; one peer per socket.
   * KEYS: peers, peersBySocket, peersOwner, peersOrder, owners, seq
   * ARGV: prefix, peerId, socketId, peerJson, node
   * → 1 registered, 0 taken
   */
  parleyPeerRegister: {
    numberOfKeys: 6,
    lua: `
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 or redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[6]), ARGV[2])
redis.call('SADD', key_owned(ARGV[1], ARGV[5], 'peers'), ARGV[3])
redis.call('SADD', KEYS[5], ARGV[5])
return 1
`,
  },

  /**
   * KEYS: peers, peersBySocket, peersOwner, peersOrder
   * ARGV: prefix, socketId, expectedNode ('' for any)
   * → the peer json, or nil
   */
  parleyPeerUnregister: {
    numberOfKeys: 4,
    lua: `
local peerId = redis.call('HGET', KEYS[2], ARGV[2])
if not peerId then return false end
local n = redis.call('HGET', KEYS[3], ARGV[2])
if ARGV[3] ~= '' and n ~= ARGV[3] then return false end
local json = redis.call('HGET', KEYS[1], peerId)
redis.call('HDEL', KEYS[1], peerId)
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], peerId)
if n then redis.call('SREM', key_owned(ARGV[1], n, 'peers'), ARGV[2]) end
return json
`,
  },

  /**
   * KEYS: peers, peersOrder
   * → every peer json, in registration order
   */
  parleyPeerList: {
    numberOfKeys: 2,
    lua: `
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  local json = redis.call('HGET', KEYS[1], id)
  if json then out[#out + 1] = json end
end
return out
`,
  },

  /**
   * Connections per client address (see RedisConnectionCounter). Each node's tally
   * (`conn-ip-node:<node>`, ip → count) is the only count: an address's total is the sum
   * of the tallies that exist, so a tally that is deleted (the node shut down or was swept)
   * or expires (its heartbeat stopped refreshing it) takes its connections with it, and no
   * total can be left behind or drift. `conn-ip-nodes` lists the nodes that may have one.
   * KEYS: connTally (this node's), connTallyNodes
   * ARGV: prefix, ip, node, limit, ttlMs
   * → 1 counted, 0 the address is at the limit (nothing counted)
   */
  parleyConnAcquire: {
    numberOfKeys: 2,
    lua: `
local p, ip, me = ARGV[1], ARGV[2], ARGV[3]
local total = 0
for _, n in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local tally = key_connTally(p, n)
  local c = redis.call('HGET', tally, ip)
  if c then
    total = total + tonumber(c)
  elseif redis.call('EXISTS', tally) == 0 then
    redis.call('SREM', KEYS[2], n)
  end
end
if total >= tonumber(ARGV[4]) then return 0 end
redis.call('HINCRBY', KEYS[1], ip, 1)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SADD', KEYS[2], me)
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 1
`,
  },

  /**
   * Gives one connection back, never below zero (an emptied field goes, and with the last
   * one the tally and the node's entry in the list).
   * KEYS: connTally, connTallyNodes
   * ARGV: prefix, ip, node
   * → the count before
   */
  parleyConnRelease: {
    numberOfKeys: 2,
    lua: `
local c = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
if c <= 1 then redis.call('HDEL', KEYS[1], ARGV[2]) else redis.call('HINCRBY', KEYS[1], ARGV[2], -1) end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[3]) end
return c
`,
  },

  /**
   * Replaces a node's tally with the counts it has of its live connections (after Redis
   * lost data, or after commands whose outcome the node could not know).
   * KEYS: connTally, connTallyNodes
   * ARGV: prefix, node, ttlMs, ip1, count1, ip2, count2, …
   */
  parleyConnReconcile: {
    numberOfKeys: 2,
    lua: `
redis.call('DEL', KEYS[1])
for i = 4, #ARGV - 1, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if #ARGV >= 5 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('SADD', KEYS[2], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
else
  redis.call('SREM', KEYS[2], ARGV[2])
end
return 1
`,
  },

  /**
   * Everything a node counted is given back (its shutdown, or its death).
   * KEYS: connTally, connTallyNodes
   * ARGV: prefix, node
   * → the number of addresses it had counted
   */
  parleyConnForget: {
    numberOfKeys: 2,
    lua: `
local n = redis.call('HLEN', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return n
`,
  },

  /**
   * KEYS: connTallyNodes
   * ARGV: prefix, ip
   * → the connections counted for the address over every node
   */
  parleyConnCount: {
    numberOfKeys: 1,
    lua: `
local total = 0
for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  total = total + tonumber(redis.call('HGET', key_connTally(ARGV[1], n), ARGV[2]) or '0')
end
return total
`,
  },

  /**
   * Drops a node from `owners` once it owns nothing any more.
   * KEYS: owners
   * ARGV: prefix, node
   * → 1 dropped, 0 it still owns entries
   */
  parleyOwnerRelease: {
    numberOfKeys: 1,
    lua: `
for _, kind in ipairs({'users', 'conns', 'calls', 'lobby', 'peers'}) do
  if redis.call('EXISTS', key_owned(ARGV[1], ARGV[2], kind)) == 1 then return 0 end
end
redis.call('SREM', KEYS[1], ARGV[2])
return 1
`,
  },

  /**
   * A logged-in user's status (v1.2), inside its stored JSON; 'online' removes the field.
   * KEYS: user:<id>
   * ARGV: prefix, status
   * → nil when the user is not logged in | {json after, '1' changed or '0'}
   */
  parleyUserSetStatus: {
    numberOfKeys: 1,
    lua: `
local json = redis.call('HGET', KEYS[1], 'json')
if not json then return false end
local u = cjson.decode(json)
local next = ARGV[2]
if next == 'online' then next = nil end
if u.status == next then return {json, '0'} end
u.status = next
json = cjson.encode(u)
redis.call('HSET', KEYS[1], 'json', json)
return {json, '1'}
`,
  },

  /**
   * A member's read position moves forward (v1.2 `read`).
   * KEYS: room:{<room>}:reads (hash id → '<epoch>|<offset>|<at>')
   * ARGV: prefix, id, epoch, offset, at
   * → {value after, '1' moved or '0'}
   */
  parleyReadAdvance: {
    numberOfKeys: 1,
    lua: `
local cur = redis.call('HGET', KEYS[1], ARGV[2])
if cur then
  local epoch, offset = string.match(cur, '^([^|]*)|(%d+)|')
  if epoch == ARGV[3] and tonumber(offset) >= tonumber(ARGV[4]) then return {cur, '0'} end
end
local value = ARGV[3] .. '|' .. ARGV[4] .. '|' .. ARGV[5]
redis.call('HSET', KEYS[1], ARGV[2], value)
return {value, '1'}
`,
  },

  /**
   * A room call's new participant, unless it is one already or the call is full.
   * KEYS: room:{<room>}:call (hash id → CallPeer JSON)
   * ARGV: prefix, id, peer json, max
   * → {'ALREADY'} | {'FULL'} | {'STARTED' or 'JOINED', every participant's json…}
   */
  parleyRoomCallJoin: {
    numberOfKeys: 1,
    lua: `
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then return {'ALREADY'} end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return {'FULL'} end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
local status = 'JOINED'
if redis.call('HLEN', KEYS[1]) == 1 then status = 'STARTED' end
local out = redis.call('HVALS', KEYS[1])
table.insert(out, 1, status)
return out
`,
  },

  /**
   * A room call's participant leaves.
   * KEYS: room:{<room>}:call
   * ARGV: prefix, id
   * → nil when it was not one | {'ENDED' or 'LEFT', the remaining participants' json…}
   */
  parleyRoomCallLeave: {
    numberOfKeys: 1,
    lua: `
if redis.call('HDEL', KEYS[1], ARGV[2]) == 0 then return false end
local out = redis.call('HVALS', KEYS[1])
if #out == 0 then table.insert(out, 1, 'ENDED') else table.insert(out, 1, 'LEFT') end
return out
`,
  },

  /**
   * KEYS: lock
   * ARGV: holder
   * Deletes the lock only when this holder still has it.
   */
  parleyUnlock: {
    numberOfKeys: 1,
    lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
  },
} satisfies Record<string, ScriptDef>;

export type ScriptName = keyof typeof SCRIPTS;
