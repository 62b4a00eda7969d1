/**
 * @jest-environment jsdom
 */
import { describe, expect, it } from '@jest/globals';
import { act, renderHook } from '@testing-library/react';
import type { CallView } from './call-controller.js';
import { FakeClient } from './testing/fake-client.js';
import { useCall, type UseCallOptions } from './use-call.js';

const offer = { type: 'offer', sdp: 'v=0' };

function setup(answer: boolean) {
  const fake = new FakeClient();
  const ended: CallView[] = [];
  const options: UseCallOptions = { myName: () => 'ann', onIncoming: () => answer, onEnded: (v) => ended.push(v) };
  const { result, unmount } = renderHook(() => useCall(fake.asClient, options));
  return { fake, ended, result, unmount };
}

describe('useCall', () => {
  it('rings, then a decline ends the call and tells the caller', () => {
    const { fake, result, ended } = setup(true);
    expect(result.current).toMatchObject({ view: null, incoming: null, busy: false, microphone: true, camera: true });
    act(() => fake.serverEmit('call', { from: 'bob-1', name: 'bob', signal: offer }));
    expect(result.current.incoming).toEqual({ peerId: 'bob-1', peerName: 'bob' });
    expect(result.current.view).toMatchObject({ phase: 'incoming', status: 'bob is calling…' });
    expect(result.current.busy).toBe(true);
    act(() => result.current.decline());
    expect(result.current.incoming).toBeNull();
    expect(result.current.view).toMatchObject({ phase: 'ended', endKind: 'hangup' });
    expect(result.current.busy).toBe(false);
    expect(fake.hungUp).toEqual(['bob-1']);
    expect(ended).toHaveLength(1);
  });

  it('declines at once when the page says it cannot answer', () => {
    const { fake, result } = setup(false);
    act(() => fake.serverEmit('call', { from: 'bob-1', name: 'bob', signal: offer }));
    expect(result.current.incoming).toBeNull();
    expect(result.current.view?.phase).toBe('ended');
    expect(fake.hungUp).toEqual(['bob-1']);
  });

  it('a call nobody answered in time is a missed call', () => {
    const { fake, result, ended } = setup(true);
    act(() => fake.serverEmit('call', { from: 'bob-1', name: 'bob', signal: offer }));
    act(() => fake.serverEmit('ended', { from: 'bob-1', reason: 'timeout' }));
    expect(result.current.view).toMatchObject({ phase: 'ended', endKind: 'missed', status: 'Missed call from bob' });
    expect(result.current.incoming).toBeNull();
    expect(ended.map((v) => v.endKind)).toEqual(['missed']);
  });

  it('a signed call rings only once its proof verifies, named by the server-stamped users entry', async () => {
    const fake = new FakeClient();
    const checked: unknown[] = [];
    const good = { v: 'cp1', sig: 'ok' };
    const { result } = renderHook(() =>
      useCall(fake.asClient, {
        myName: () => 'ann',
        peerName: (id) => (id === 'bob-1' ? 'bob' : undefined),
        fingerprints: {
          sign: async () => good,
          verify: async (_peer, _d, proof) => (checked.push(proof), proof === good),
        },
      }),
    );
    await act(async () =>
      fake.serverEmit('call', { from: 'bob-1', name: 'Your Bank', signal: { ...offer, proof: good } }),
    );
    expect(checked).toEqual([good]);
    expect(result.current.incoming).toEqual({ peerId: 'bob-1', peerName: 'bob' });
    act(() => result.current.decline());

    // A proof that does not verify: never rings, hung up, ended as unverified.
    await act(async () =>
      fake.serverEmit('call', { from: 'cat-1', name: 'bob', signal: { ...offer, proof: 'forged' } }),
    );
    expect(result.current.incoming).toBeNull();
    expect(result.current.view).toMatchObject({ phase: 'ended', endKind: 'unverified', peerName: 'Unknown caller' });
    expect(result.current.view?.status).toMatch(/fingerprints do not match/);
    expect(fake.hungUp).toEqual(['bob-1', 'cat-1']);
  });

  it('stops listening when unmounted', () => {
    const { fake, unmount } = setup(true);
    unmount();
    for (const e of ['call', 'answer', 'offer', 'candidate', 'ended']) expect(fake.socket.count(e)).toBe(0);
  });
});
