import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import type { IceConfig } from '../config/configuration.js';
import { IceService } from './ice.service.js';

describe('IceService', () => {
  const stun = { urls: 'stun:stun.example.org:3478' };

  it('hands out the static list alone when TURN is not configured', () => {
    const ice = new IceService({ iceServers: [stun], turnTtlS: 3600 } as IceConfig);
    expect(ice.serversFor('sock')).toEqual([stun]);
  });

  it("appends a TURN entry with coturn's shared-secret credentials", () => {
    const ice = new IceService({
      iceServers: [stun],
      turnSecret: 's3cret',
      turnUrls: ['turn:a', 'turns:b'],
      turnTtlS: 600,
    } as IceConfig);
    const [first, turn] = ice.serversFor('sock', 1_700_000_000_000);
    expect(first).toEqual(stun);
    expect(turn.urls).toEqual(['turn:a', 'turns:b']);
    expect(turn.username).toBe('1700000600:sock');
    expect(turn.credential).toBe(createHmac('sha1', 's3cret').update('1700000600:sock').digest('base64'));
  });
});
