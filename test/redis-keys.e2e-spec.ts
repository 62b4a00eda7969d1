/**
 * The key layout has one source: the Lua key functions every script gets are generated from
 * the same templates RedisKeys builds names from, so both spell every key alike.
 */
import { afterAll, expect, it } from '@jest/globals';
import { luaKeyFunctions, RedisKeys } from '../src/redis/redis.constants.js';
import { describeWithRedis, inspector } from './helpers/redis.js';

const describeRedis = await describeWithRedis('redis-keys.e2e-spec');
const redis = inspector();
afterAll(() => redis.disconnect());

describeRedis('the Redis key layout', () => {
  it('names every templated key in Lua exactly as RedisKeys does', async () => {
    const keys = new RedisKeys('parley-test-keys:');
    const expected = [
      keys.owned('node-1', 'users'),
      keys.user('sock'),
      keys.roomUsers('a room'),
      keys.roomNames('a room'),
      keys.rooms,
      keys.call('a|b'),
      keys.socketCalls('sock'),
      keys.lobbyOwner,
      keys.peersOwner,
    ];
    const lua = `${luaKeyFunctions()}
local p = ARGV[1]
return { key_owned(p, 'node-1', 'users'), key_user(p, 'sock'), key_roomUsers(p, 'a room'), key_roomNames(p, 'a room'),
  key_rooms(p), key_call(p, 'a|b'), key_socketCalls(p, 'sock'), key_lobbyOwner(p), key_peersOwner(p) }`;
    expect(await redis.eval(lua, 0, 'parley-test-keys:')).toEqual(expected);
    expect(expected[2]).toBe('parley-test-keys:room:a room:users');
  });
});
