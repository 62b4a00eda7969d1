/**
 * @jest-environment jsdom
 */
import './testing/web-platform.js';
import { describe, expect, it } from '@jest/globals';
import { act, renderHook, waitFor } from '@testing-library/react';
import {
  ParleyError,
  deriveRoomKey,
  encryptMessage,
  memoryIdentityStore,
  memoryTrustStore,
  type User,
} from '../index.js';
import { FakeClient, roomMessage } from './testing/fake-client.js';
import { useParley, type ParleyNotice, type UseParleyOptions } from './use-parley.js';
import { useRoom } from './use-room.js';

const PASSPHRASE = 'lemon-tide-anchor';

/** The two hooks as the page uses them. */
function setup(fake = new FakeClient()) {
  const notices: ParleyNotice[] = [];
  const options: UseParleyOptions = {
    identityStore: memoryIdentityStore(),
    trustStore: memoryTrustStore(),
    onNotice: (n) => notices.push(n),
  };
  const hook = renderHook(() => {
    const parley = useParley(fake.asClient, options);
    const room = useRoom(parley);
    return { parley, room };
  });
  return { fake, notices, hook, result: hook.result };
}

const texts = (r: ReturnType<typeof setup>['result']) =>
  r.current.room.timeline.items.map((i) => (i.kind === 'message' ? (i.text ?? i.reason) : 'GAP'));

describe('useParley and useRoom', () => {
  it('loads the device identity once and shows its fingerprint', async () => {
    const { result } = setup();
    await waitFor(() => expect(result.current.parley.identity).not.toBeNull());
    expect(result.current.parley.identity!.fingerprint).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){7}$/);
  });

  it('passphrase mode: joins, shows history in offset order, live messages, and sends what the others can open', async () => {
    const fake = new FakeClient();
    const key = await deriveRoomKey(PASSPHRASE, 'r');
    const sealed = (text: string, from = 'bob') => encryptMessage(key, text, from);
    fake.historyReply = {
      messages: [
        roomMessage({ offset: 2, message: await sealed('second') }),
        roomMessage({ offset: 1, message: await sealed('first') }),
      ],
      offset: 2,
      epoch: 'e1',
      complete: true,
    };
    const { result } = setup(fake);
    await act(() =>
      result.current.parley.login({ name: 'ann', room: 'r', mode: 'passphrase', passphrase: PASSPHRASE }),
    );
    expect(result.current.parley.session).toMatchObject({ mode: 'passphrase', user: { name: 'ann', room: 'r' } });
    await waitFor(() => expect(texts(result)).toEqual(['first', 'second']));
    await waitFor(() => expect(result.current.room.users.map((u) => u.name)).toEqual(['ann']));

    act(() => fake.deliver(roomMessage({ offset: 3, message: 'not an envelope' })));
    const live = await sealed('third');
    act(() => fake.deliver(roomMessage({ offset: 4, message: live })));
    await waitFor(() => expect(texts(result)).toEqual(['first', 'second', 'malformed', 'third']));

    await act(() => result.current.room.send('from ann'));
    expect(fake.sent[0]).toMatch(/^p1\./);
    act(() => fake.deliver(roomMessage({ offset: 5, message: fake.sent[0]!, from: 'ann', fromId: fake.id! })));
    await waitFor(() =>
      expect(result.current.room.timeline.items.at(-1)).toMatchObject({ text: 'from ann', mine: true }),
    );
  });

  it('flags members whose messages are in the other mode', async () => {
    const { fake, result } = setup();
    await act(() =>
      result.current.parley.login({ name: 'ann', room: 'r', mode: 'passphrase', passphrase: PASSPHRASE }),
    );
    act(() => fake.deliver(roomMessage({ offset: 1, from: 'carol', message: 's1.0123456789abcdef.AAAA.BBBB.CCCC' })));
    await waitFor(() => expect(result.current.room.otherMode).toEqual(['carol']));
    expect(result.current.room.timeline.items[0]).toMatchObject({ reason: 'unsupported-version' });
  });

  it('marks an incomplete history, and the gap a resume could not fill', async () => {
    const fake = new FakeClient();
    fake.historyReply = {
      messages: [roomMessage({ offset: 7, message: 'x' })],
      offset: 7,
      epoch: 'e1',
      complete: false,
    };
    const { result } = setup(fake);
    await act(() =>
      result.current.parley.login({ name: 'ann', room: 'r', mode: 'passphrase', passphrase: PASSPHRASE }),
    );
    await waitFor(() => expect(texts(result)).toEqual(['GAP', 'malformed']));

    fake.lastSeen = { room: 'r', offset: 7, epoch: 'e1' };
    act(() => fake.socket.emit('disconnect'));
    act(() => fake.resume({ room: 'r', complete: false, missed: 0, epochChanged: false, user: fake.users[0] }));
    await waitFor(() => expect(result.current.room.timeline.items.at(-1)).toMatchObject({ kind: 'gap', offset: 7.5 }));
  });

  it('a kick ends the session and keeps the reason until the next login', async () => {
    const { fake, result, notices } = setup();
    await act(() => result.current.parley.login({ name: 'ann', room: 'r', mode: 'keys' }));
    expect(result.current.parley.session?.keys).toBeDefined();
    act(() => fake.serverEmit('kicked', { room: 'elsewhere', reason: 'not us' }));
    expect(result.current.parley.session).not.toBeNull();
    act(() => fake.serverEmit('kicked', { room: 'r', reason: 'Spam' }));
    expect(result.current.parley.session).toBeNull();
    expect(result.current.parley.kick).toEqual({ room: 'r', reason: 'Spam' });
    expect(notices).toEqual([{ type: 'kicked', room: 'r', reason: 'Spam' }]);
    await waitFor(() => expect(result.current.room.users).toEqual([]));
    await act(() => result.current.parley.login({ name: 'ann', room: 'r', mode: 'keys' }));
    expect(result.current.parley.kick).toBeNull();
  });

  it('a rejoin keeps the login with a new socket and new keys; a failed resume ends it', async () => {
    const { fake, result, notices } = setup();
    await act(() => result.current.parley.login({ name: 'ann', room: 'r', mode: 'keys' }));
    const first = result.current.parley.session!;
    const again: User = { ...first.user, id: 'me-2' };
    await act(() => fake.rejoin(again));
    const second = result.current.parley.session!;
    expect(second.joinId).toBe(first.joinId);
    expect(second.user.id).toBe('me-2');
    expect(second.keys).not.toBe(first.keys);
    expect(result.current.parley.current()).toBe(second);

    act(() => fake.resume({ room: 'r', complete: true, missed: 0, epochChanged: false, user: again }));
    expect(notices).toEqual([{ type: 'resumed', room: 'r', complete: true }]);
    const error = new ParleyError('NAME_TAKEN', 'taken', 'login');
    act(() => fake.resume({ room: 'r', complete: false, missed: 0, epochChanged: false, error }));
    expect(result.current.parley.session).toBeNull();
    expect(notices.at(-1)).toEqual({ type: 'resume-failed', room: 'r', error });
  });

  it("a refused login leaves no session and rejects with the server's error", async () => {
    const fake = new FakeClient();
    fake.loginError = new ParleyError('NAME_TAKEN', 'taken', 'login');
    const { result } = setup(fake);
    await act(() =>
      expect(result.current.parley.login({ name: 'ann', room: 'r', mode: 'keys' })).rejects.toMatchObject({
        code: 'NAME_TAKEN',
      }),
    );
    expect(result.current.parley.session).toBeNull();
    expect(result.current.parley.loginPhase).toBe('idle');
  });

  it('leaves no listener behind when unmounted', async () => {
    const { fake, hook, result } = setup();
    await act(() => result.current.parley.login({ name: 'ann', room: 'r', mode: 'keys' }));
    hook.unmount();
    expect(fake.listeners()).toEqual({ messages: 0, resumes: 0, rejoins: 0 });
    for (const e of ['kicked', 'users', 'direct', 'disconnect']) expect(fake.socket.count(e)).toBe(0);
  });
});
