/**
 * @jest-environment jsdom
 */
import { describe, expect, it } from '@jest/globals';
import { act, renderHook, waitFor } from '@testing-library/react';
import type { CallPeer } from '../index.js';
import { FakeClient } from './testing/fake-client.js';
import type { RoomSession } from './use-parley.js';
import { useRoomCall } from './use-room-call.js';

const session = { joinId: 1, user: { id: 'me-1', name: 'ann', room: 'r', joinedAt: 1 }, mode: 'keys' } as RoomSession;

function setup() {
  const fake = new FakeClient();
  const requests: string[] = [];
  let peers: CallPeer[] = [];
  Object.assign(fake, {
    joinCall: async () => {
      requests.push('joinCall');
      const before = peers;
      peers = [...peers, { id: 'me-1', name: 'ann', joinedAt: 2 }];
      fake.serverEmit('roomCall', { room: 'r', peers });
      return before;
    },
    leaveCall: async () => void requests.push('leaveCall'),
    callSignal: async () => undefined,
  });
  const hook = renderHook(({ s }) => useRoomCall(fake.asClient, s), {
    initialProps: { s: session as RoomSession | null },
  });
  return { fake, requests, ...hook };
}

describe('useRoomCall', () => {
  it('shows an ongoing call before joining, joins and leaves, and forgets it when the page leaves the room', async () => {
    const { fake, requests, result, rerender } = setup();
    await waitFor(() => expect(result.current.call()).not.toBeNull());
    expect(result.current.view).toMatchObject({ phase: 'idle', participants: [] });
    act(() => fake.serverEmit('roomCall', { room: 'r', peers: [{ id: 'bob-1', name: 'bob', joinedAt: 1 }] }));
    expect(result.current.view.participants.map((p) => p.name)).toEqual(['bob']);
    expect(result.current.active).toBe(false);

    // bob leaves; the page starts a new call (nobody to connect to: jsdom has no WebRTC).
    act(() => fake.serverEmit('roomCall', { room: 'r', peers: [] }));
    expect(result.current.view.participants).toEqual([]);
    act(() => result.current.join());
    await waitFor(() => expect(result.current.view).toMatchObject({ phase: 'joined' }));
    expect(requests).toEqual(['joinCall']);
    expect(result.current.view.participants.map((p) => p.name)).toEqual(['ann']);
    // jsdom has no camera: the page joins to receive and says so.
    expect(result.current.view.error?.code).toBe('NO_DEVICES');
    act(() => result.current.toggleMicrophone());
    expect(result.current.view.local.microphone).toBe(false);

    act(() => result.current.leave());
    await waitFor(() => expect(requests).toEqual(['joinCall', 'leaveCall']));
    expect(result.current.view.phase).toBe('idle');

    // Members that leave the room leave the list; the page leaving the room forgets the call.
    act(() => fake.serverEmit('roomCall', { room: 'r', peers: [{ id: 'bob-1', name: 'bob', joinedAt: 3 }] }));
    act(() => fake.serverEmit('users', [{ id: 'me-1', name: 'ann', room: 'r', joinedAt: 1 }]));
    expect(result.current.view.participants).toEqual([]);
    act(() => fake.serverEmit('roomCall', { room: 'r', peers: [{ id: 'cat-1', name: 'cat', joinedAt: 4 }] }));
    rerender({ s: null });
    expect(result.current.view.participants).toEqual([]);
  });
});
