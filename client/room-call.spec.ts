/**
 * RoomCall's negotiation logic against fake peer connections and a fake relay: who offers
 * first, offers crossing (the polite side rolls back, the impolite one ignores), screen
 * shares and ICE restarts as renegotiation, the bitrate cap, state over `callSignal`, the
 * fingerprint hook, and teardown when a peer leaves. Real browsers: test/web-room-call.e2e-spec.ts.
 */
import { describe, expect, it } from '@jest/globals';
import type { CallPeer, RoomCallEvent } from '../src/common/events.js';
import { ParleyError } from './parley-client.js';
import { RoomCall, type RoomCallClient, type RoomCallOptions } from './room-call.js';

// ---------- fakes ----------

class FakeTrack {
  enabled = true;
  stopped = false;
  private readonly listeners = new Set<() => void>();
  constructor(
    readonly kind: string,
    readonly id: string,
  ) {}
  stop() {
    this.stopped = true;
  }
  addEventListener(_: string, l: () => void) {
    this.listeners.add(l);
  }
}

class FakeStream {
  private readonly tracks: FakeTrack[];
  constructor(
    readonly id: string,
    tracks: FakeTrack[] = [],
  ) {
    this.tracks = [...tracks];
  }
  getTracks() {
    return [...this.tracks];
  }
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === 'video');
  }
  addTrack(t: FakeTrack) {
    this.tracks.push(t);
  }
  removeTrack(t: FakeTrack) {
    this.tracks.splice(this.tracks.indexOf(t), 1);
  }
  addEventListener() {}
}

function camera(name: string): FakeStream {
  return new FakeStream(`cam-${name}`, [new FakeTrack('audio', `${name}-a`), new FakeTrack('video', `${name}-v`)]);
}

interface Sdp {
  streams: Array<{ id: string; tracks: Array<{ id: string; kind: string }> }>;
  ufrag: number;
}

class FakeSender {
  params: { encodings: Array<{ maxBitrate?: number }> } = { encodings: [] };
  constructor(
    public track: FakeTrack | null,
    readonly stream: FakeStream | null,
  ) {}
  getParameters() {
    return structuredClone(this.params);
  }
  async setParameters(p: { encodings: Array<{ maxBitrate?: number }> }) {
    this.params = structuredClone(p);
  }
}

/** Just enough of RTCPeerConnection for perfect negotiation, with the JSEP state machine. */
class FakePC {
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  onnegotiationneeded: (() => void) | null = null;
  onicecandidate: ((e: unknown) => void) | null = null;
  ontrack: ((e: unknown) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  onsignalingstatechange: (() => void) | null = null;
  readonly senders: FakeSender[] = [];
  readonly ops: string[] = [];
  readonly candidates: RTCIceCandidateInit[] = [];
  restarts = 0;
  private ufrag = 0;
  private needed = false;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly seenRemote = new Set<string>();
  private readonly remoteStreams = new Map<string, FakeStream>();
  private pendingLocal: RTCSessionDescriptionInit | null = null;

  constructor(
    readonly owner: string,
    readonly config: RTCConfiguration,
  ) {}

  addTrack(track: FakeTrack, stream: FakeStream) {
    const s = new FakeSender(track, stream);
    this.senders.push(s);
    this.negotiationNeeded();
    return s;
  }
  addTransceiver() {}
  removeTrack(sender: FakeSender) {
    sender.track = null;
    this.negotiationNeeded();
  }
  getSenders() {
    return this.senders;
  }
  restartIce() {
    this.restarts += 1;
    this.ufrag += 1;
    this.negotiationNeeded();
  }
  close() {
    this.signalingState = 'closed';
    this.connectionState = 'closed';
  }
  async getStats() {
    return new Map();
  }

  setLocalDescription(d?: RTCSessionDescriptionInit): Promise<void> {
    return this.op(async () => {
      if (this.signalingState === 'closed') throw new Error('closed');
      if (d?.type === 'rollback') {
        if (this.signalingState !== 'have-local-offer')
          throw new Error(`InvalidStateError: rollback in ${this.signalingState}`);
        this.ops.push('rollback');
        this.pendingLocal = null;
        this.setState('stable');
        this.needed = true; // the rolled-back changes still need negotiating
        return;
      }
      const type = this.signalingState === 'have-remote-offer' ? 'answer' : 'offer';
      const desc = { type, sdp: this.sdp() } as RTCSessionDescriptionInit;
      this.ops.push(`sld:${type}`);
      this.localDescription = desc;
      if (type === 'offer') {
        this.needed = false;
        this.pendingLocal = desc;
        this.setState('have-local-offer');
      } else {
        this.needed = false;
        this.setState('stable');
      }
      this.onicecandidate?.({
        candidate: { candidate: `cand-${this.owner}`, toJSON: () => ({ candidate: `cand-${this.owner}` }) },
      });
    });
  }

  setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
    return this.op(async () => {
      if (this.signalingState === 'closed') throw new Error('closed');
      if (d.type === 'offer' && this.signalingState !== 'stable') {
        throw new Error(`InvalidStateError: offer in ${this.signalingState}`);
      }
      if (d.type === 'answer' && this.signalingState !== 'have-local-offer') {
        throw new Error(`InvalidStateError: answer in ${this.signalingState}`);
      }
      this.ops.push(`srd:${d.type}`);
      this.remoteDescription = d;
      const sdp = JSON.parse(d.sdp!) as Sdp;
      for (const s of sdp.streams) {
        for (const t of s.tracks) {
          if (this.seenRemote.has(t.id)) continue;
          this.seenRemote.add(t.id);
          const stream = this.remoteStreams.get(s.id) ?? new FakeStream(s.id);
          this.remoteStreams.set(s.id, stream);
          this.ontrack?.({ track: new FakeTrack(t.kind, t.id), streams: [stream] });
        }
      }
      this.setState(d.type === 'offer' ? 'have-remote-offer' : 'stable');
      if (d.type === 'answer') this.pendingLocal = null;
    });
  }

  async addIceCandidate(c: RTCIceCandidateInit) {
    if (!this.remoteDescription) throw new Error('InvalidStateError: no remote description');
    this.candidates.push(c);
  }

  setConnection(state: RTCPeerConnectionState) {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }

  private sdp(): string {
    const streams = new Map<string, Sdp['streams'][number]>();
    for (const s of this.senders) {
      if (!s.track || !s.stream) continue;
      const entry = streams.get(s.stream.id) ?? { id: s.stream.id, tracks: [] };
      entry.tracks.push({ id: s.track.id, kind: s.track.kind });
      streams.set(s.stream.id, entry);
      if (!s.params.encodings.length) s.params.encodings = [{}];
    }
    return JSON.stringify({ streams: [...streams.values()], ufrag: this.ufrag } satisfies Sdp);
  }

  private setState(state: RTCSignalingState) {
    this.signalingState = state;
    this.onsignalingstatechange?.();
    if (state === 'stable' && this.needed) this.negotiationNeeded();
  }

  private negotiationNeeded() {
    this.needed = true;
    // As in browsers: fired as a task, and only when stable.
    setTimeout(() => {
      if (this.needed && this.signalingState === 'stable' && this.onnegotiationneeded) {
        this.needed = false;
        this.onnegotiationneeded();
      }
    }, 0);
  }

  private op<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

/** The server's room-call relay, in order per pair; `hold()` queues signals until `release()`. */
class Hub {
  readonly peers: CallPeer[] = [];
  readonly clients = new Map<string, HubClient>();
  private held: Array<() => void> | null = null;
  signals = 0;
  max = 6;
  private clock = 1000;

  client(id: string): HubClient {
    const c = new HubClient(this, id);
    this.clients.set(id, c);
    return c;
  }
  broadcast() {
    const e: RoomCallEvent = { room: 'r', peers: [...this.peers] };
    for (const c of this.clients.values()) c.emit('roomCall', e);
  }
  deliver(from: string, to: string, data: unknown) {
    this.signals += 1;
    const go = () => this.clients.get(to)?.emit('callSignal', { from, data: structuredClone(data) });
    if (this.held) this.held.push(go);
    else setTimeout(go, 0);
  }
  hold() {
    this.held = [];
  }
  release() {
    const held = this.held ?? [];
    this.held = null;
    for (const go of held) setTimeout(go, 0);
  }
  nextJoin() {
    return ++this.clock;
  }
}

class HubClient implements RoomCallClient {
  private readonly handlers = new Map<string, Set<(e: never) => void>>();
  constructor(
    private readonly hub: Hub,
    readonly id: string,
  ) {}
  on: RoomCallClient['on'] = (event, listener) => {
    const set = this.handlers.get(event) ?? new Set();
    set.add(listener as (e: never) => void);
    this.handlers.set(event, set);
    return () => set.delete(listener as (e: never) => void);
  };
  emit(event: string, payload: unknown) {
    for (const h of [...(this.handlers.get(event) ?? [])]) (h as (e: unknown) => void)(payload);
  }
  async joinCall() {
    const { peers } = this.hub;
    if (peers.some((p) => p.id === this.id)) throw new ParleyError('ALREADY_IN_CALL', 'already');
    if (peers.length >= this.hub.max) throw new ParleyError('CALL_FULL', 'full');
    const before = [...peers];
    peers.push({ id: this.id, name: this.id, joinedAt: this.hub.nextJoin() });
    this.hub.broadcast();
    return before;
  }
  async leaveCall() {
    const i = this.hub.peers.findIndex((p) => p.id === this.id);
    if (i < 0) throw new ParleyError('NO_CALL', 'no call');
    this.hub.peers.splice(i, 1);
    this.hub.broadcast();
  }
  async callSignal(to: string, data: unknown) {
    this.hub.deliver(this.id, to, data);
  }
  async iceServers() {
    return [{ urls: 'turn:turn.example:3478', username: 'u', credential: 'c' }];
  }
}

const pcs: FakePC[] = [];

function participant(hub: Hub, id: string, options: RoomCallOptions = {}) {
  const client = hub.client(id);
  const local = camera(id);
  const call = new RoomCall(client, {
    createPeerConnection: (config) => {
      const pc = new FakePC(id, config);
      pcs.push(pc);
      return pc as unknown as RTCPeerConnection;
    },
    getUserMedia: async () => local as unknown as MediaStream,
    statsIntervalMs: 0,
    ...options,
  });
  const pc = (peer: string) => call.peerConnection(peer) as unknown as FakePC;
  return { id, client, call, local, pc };
}

/** Let timers and promises run until nothing changes for a few rounds. */
async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}

function connected(a: ReturnType<typeof participant>, b: ReturnType<typeof participant>) {
  const ab = a.pc(b.id);
  const ba = b.pc(a.id);
  return (
    ab?.signalingState === 'stable' &&
    ba?.signalingState === 'stable' &&
    ab.remoteDescription !== null &&
    ba.remoteDescription !== null
  );
}

// ---------- specs ----------

describe('RoomCall', () => {
  it('the later participant offers first, the earlier one answers; TURN servers and the bitrate cap are used', async () => {
    const hub = new Hub();
    const ann = participant(hub, 'ann');
    const bob = participant(hub, 'bob');
    await ann.call.join();
    expect(ann.call.view).toMatchObject({ phase: 'joined', peers: [] });
    await bob.call.join();
    await settle();

    expect(connected(ann, bob)).toBe(true);
    expect(bob.pc('ann').ops[0]).toBe('sld:offer');
    expect(ann.pc('bob').ops.slice(0, 2)).toEqual(['srd:offer', 'sld:answer']);
    expect(ann.call.view.peers[0]).toMatchObject({ id: 'bob', polite: true });
    expect(bob.call.view.peers[0]).toMatchObject({ id: 'ann', polite: false });
    expect(bob.pc('ann').config.iceServers?.[0]).toMatchObject({ urls: 'turn:turn.example:3478', credential: 'c' });
    // Each got the other's camera stream, and candidates went both ways after the descriptions.
    expect(ann.call.view.peers[0].stream?.id).toBe('cam-bob');
    expect(bob.call.view.peers[0].stream?.id).toBe('cam-ann');
    expect(ann.pc('bob').candidates.length).toBeGreaterThan(0);
    // Both learned the other's switches.
    expect(ann.call.view.peers[0]).toMatchObject({ microphone: true, camera: true });

    const video = (p: ReturnType<typeof participant>, peer: string) =>
      p.pc(peer).senders.find((s) => s.track?.kind === 'video')!.params.encodings[0].maxBitrate;
    expect(video(ann, 'bob')).toBe(1_500_000);

    const cat = participant(hub, 'cat');
    await cat.call.join();
    await settle();
    expect(connected(cat, ann) && connected(cat, bob) && connected(ann, bob)).toBe(true);
    expect(video(ann, 'bob')).toBe(750_000);
    expect(video(cat, 'ann')).toBe(750_000);
    expect(ann.call.videoBitrate(20)).toBe(150_000);
  });

  it('offers crossing: the polite (earlier) side rolls back and answers, the impolite side ignores', async () => {
    const hub = new Hub();
    const ann = participant(hub, 'ann');
    const bob = participant(hub, 'bob');
    await ann.call.join();
    await bob.call.join();
    await settle();
    expect(connected(ann, bob)).toBe(true);

    // Both share a screen at the same instant: two offers on the wire at once.
    hub.hold();
    const annScreen = new FakeStream('screen-ann', [new FakeTrack('video', 'ann-s')]);
    const bobScreen = new FakeStream('screen-bob', [new FakeTrack('video', 'bob-s')]);
    await ann.call.startScreenShare(annScreen as unknown as MediaStream);
    await bob.call.startScreenShare(bobScreen as unknown as MediaStream);
    await settle();
    expect(ann.pc('bob').signalingState).toBe('have-local-offer');
    expect(bob.pc('ann').signalingState).toBe('have-local-offer');
    hub.release();
    await settle();

    // ann (polite) rolled its offer back to take bob's; bob never rolled back.
    expect(ann.pc('bob').ops).toContain('rollback');
    expect(bob.pc('ann').ops).not.toContain('rollback');
    expect(connected(ann, bob)).toBe(true);
    // And ann's screen went out in a later offer: both screens arrived.
    expect(ann.call.view.peers[0].screen?.id).toBe('screen-bob');
    expect(bob.call.view.peers[0].screen?.id).toBe('screen-ann');
    expect(ann.call.view.peers[0].stream?.id).toBe('cam-bob');
    expect(ann.call.view.local.screen).toBe(annScreen);

    ann.call.stopScreenShare();
    await settle();
    expect(annScreen.getTracks().every((t) => (t as FakeTrack).stopped)).toBe(true);
    expect(bob.call.view.peers[0].screen).toBeNull();
    expect(connected(ann, bob)).toBe(true);
  });

  it('mute and camera state reach the others over callSignal', async () => {
    const hub = new Hub();
    const ann = participant(hub, 'ann');
    const bob = participant(hub, 'bob');
    await ann.call.join();
    await bob.call.join();
    await settle();
    ann.call.setMicrophone(false);
    ann.call.setCamera(false);
    await settle();
    expect(ann.local.getAudioTracks()[0].enabled).toBe(false);
    expect(ann.call.view.local).toMatchObject({ microphone: false, camera: false });
    expect(bob.call.view.peers[0]).toMatchObject({ microphone: false, camera: false });
  });

  it('a failed connection restarts ICE with a new offer, and the pair renegotiates', async () => {
    const hub = new Hub();
    const ann = participant(hub, 'ann');
    const bob = participant(hub, 'bob');
    await ann.call.join();
    await bob.call.join();
    await settle();
    const before = bob.pc('ann').ops.length;
    bob.pc('ann').setConnection('failed');
    await settle();
    expect(bob.pc('ann').restarts).toBe(1);
    expect(bob.pc('ann').ops.slice(before)).toEqual(['sld:offer', 'srd:answer']);
    expect(JSON.parse(ann.pc('bob').remoteDescription!.sdp!).ufrag).toBe(1);
    expect(bob.call.view.peers[0].iceRestarts).toBe(1);
    expect(connected(ann, bob)).toBe(true);
  });

  it('a participant that leaves is torn down by the others, who raise their bitrate', async () => {
    const hub = new Hub();
    const [ann, bob, cat] = ['ann', 'bob', 'cat'].map((id) => participant(hub, id));
    for (const p of [ann, bob, cat]) await p.call.join();
    await settle();
    const annToCat = ann.pc('cat');
    const catPc = cat.pc('ann');
    await cat.call.leave();
    await settle();
    expect(cat.call.view).toMatchObject({ phase: 'idle', peers: [] });
    expect(cat.local.getTracks().every((t) => (t as FakeTrack).stopped)).toBe(true);
    expect(catPc.signalingState).toBe('closed');
    expect(annToCat.signalingState).toBe('closed');
    expect(ann.call.view.peers.map((p) => p.id)).toEqual(['bob']);
    expect(bob.call.view.peers.map((p) => p.id)).toEqual(['ann']);
    expect(ann.call.view.participants.map((p) => p.id)).toEqual(['ann', 'bob']);
    expect(ann.pc('bob').senders.find((s) => s.track?.kind === 'video')!.params.encodings[0].maxBitrate).toBe(
      1_500_000,
    );
    // A fourth joins later and meets both.
    const dan = participant(hub, 'dan');
    await dan.call.join();
    await settle();
    expect(connected(dan, ann) && connected(dan, bob)).toBe(true);
    expect(dan.call.view.peers.map((p) => p.id)).toEqual(['ann', 'bob']);
  });

  it('CALL_FULL: the page stays out, says why, and releases its devices', async () => {
    const hub = new Hub();
    hub.max = 2;
    const [ann, bob, cat] = ['ann', 'bob', 'cat'].map((id) => participant(hub, id));
    await ann.call.join();
    await bob.call.join();
    await expect(cat.call.join()).rejects.toMatchObject({ code: 'CALL_FULL' });
    expect(cat.call.view).toMatchObject({ phase: 'idle', error: { code: 'CALL_FULL', message: 'The call is full.' } });
    expect(cat.local.getTracks().every((t) => (t as FakeTrack).stopped)).toBe(true);
    // It still sees who is in the call.
    expect(cat.call.view.participants.map((p) => p.id)).toEqual(['ann', 'bob']);
  });

  it('a roomCall without this page (its socket was replaced) ends the call locally', async () => {
    const hub = new Hub();
    const ann = participant(hub, 'ann');
    const bob = participant(hub, 'bob');
    await ann.call.join();
    await bob.call.join();
    await settle();
    const pc = ann.pc('bob');
    hub.peers.splice(0, 1);
    hub.broadcast();
    expect(ann.call.view).toMatchObject({ phase: 'idle', error: { code: 'DISCONNECTED' } });
    expect(pc.signalingState).toBe('closed');
  });

  it('fingerprint hook: descriptions carry a proof, and one that does not verify drops the peer', async () => {
    const hub = new Hub();
    const proofs: unknown[] = [];
    const good = {
      sign: async (peer: string) => `signed-for-${peer}`,
      verify: async (_peer: string, _d: RTCSessionDescriptionInit, proof: unknown) => (proofs.push(proof), true),
    };
    const ann = participant(hub, 'ann', { fingerprints: good });
    const bob = participant(hub, 'bob', { fingerprints: good });
    await ann.call.join();
    await bob.call.join();
    await settle();
    expect(connected(ann, bob)).toBe(true);
    expect(proofs).toEqual(expect.arrayContaining(['signed-for-ann', 'signed-for-bob']));

    const cat = participant(hub, 'cat', { fingerprints: { sign: async () => 'forged', verify: async () => true } });
    const strict = { sign: good.sign, verify: async (_p: string, _d: unknown, proof: unknown) => proof !== 'forged' };
    const dan = participant(hub, 'dan', { fingerprints: strict });
    await dan.call.join();
    await cat.call.join();
    await settle();
    expect(dan.call.view.peers.find((p) => p.id === 'cat')?.connectionState).toBe('unverified');
    expect(dan.call.view.error?.code).toBe('UNVERIFIED');
  });
});
