/**
 * A room's group call: a WebRTC full mesh (up to `MAX_CALL_PEERS`, six by default) over
 * Parley's room-call events (docs/PROTOCOL.md, "Room calls", v1.2). Framework-free; the
 * React page holds one through `useRoomCall` (client/react/use-room-call.ts).
 *
 * - `joinCall` answers with the participants already there; this page joined after them,
 *   so it is the *impolite* side of each of those pairs and sends the first offer. A
 *   participant that joins later shows up in `roomCall`; this page is *polite* towards it
 *   and waits for its offer (its peer connection is made when the first signal arrives).
 * - Each pair runs the W3C perfect-negotiation pattern: every change of tracks
 *   (`addTrack`, a screen share, `removeTrack`) and every ICE restart is a new offer from
 *   `onnegotiationneeded`; when two offers cross, the polite side rolls its own back and
 *   answers, the impolite side ignores the other's offer.
 * - `callSignal` `data` is one of:
 *   - `{ description, proof? }`: an SDP offer or answer (`proof`: see `fingerprints`),
 *   - `{ candidate }`: a trickled ICE candidate,
 *   - `{ state: { microphone, camera, screen } }`: this participant's switches, sent to
 *     each peer when its connection is made and on every change (`screen` is the id of
 *     the MediaStream that carries the screen share, or null). Signals from one sender
 *     arrive in order, so the state follows the descriptions it refers to.
 * - A connection that fails restarts ICE (`restartIce()`); one that stays disconnected
 *   for a few seconds too. Each outgoing video is capped at `videoBudget / peers` bits per
 *   second (never below `videoFloor`) as the mesh grows and shrinks.
 * - A peer that `roomCall` no longer lists is torn down (its connection closed).
 */
import type { CallPeer, RoomCallEvent, RTCIceServerLike } from '../src/common/events.js';
import type { ParleyClient } from './parley-client.js';

/** The part of ParleyClient a RoomCall uses. */
export interface RoomCallClient {
  readonly id: string | undefined;
  joinCall(): Promise<CallPeer[]>;
  leaveCall(): Promise<void>;
  callSignal(to: string, data: unknown): Promise<void>;
  iceServers(): Promise<RTCIceServerLike[]>;
  on: ParleyClient['on'];
}

/**
 * The hook for signed DTLS fingerprints (the encryption issue): `sign` gives a proof sent
 * with each local description, `verify` checks the proof that came with a remote one. A
 * description that does not verify is not applied and the peer is dropped (`unverified`).
 */
export interface DescriptionVerifier {
  sign(peerId: string, description: RTCSessionDescriptionInit): Promise<unknown>;
  verify(peerId: string, description: RTCSessionDescriptionInit, proof: unknown): Promise<boolean>;
}

export interface RoomCallOptions {
  /** Makes the peer connections (tests pass a fake); default `new RTCPeerConnection(config)`. */
  createPeerConnection?(config: RTCConfiguration): RTCPeerConnection;
  /** The local camera and microphone; default getUserMedia with a fallback to audio or video only. */
  getUserMedia?(): Promise<MediaStream | null>;
  /** The screen to share; default `navigator.mediaDevices.getDisplayMedia`. */
  getDisplayMedia?(): Promise<MediaStream>;
  fingerprints?: DescriptionVerifier;
  /** Bits per second shared by the outgoing copies of one video (default 1.5 Mbps). */
  videoBudget?: number;
  /** The least any outgoing video gets (default 150 kbps). */
  videoFloor?: number;
  /** How often audio levels are read with getStats, ms (default 500; 0 = never). */
  statsIntervalMs?: number;
  /** How long a connection may stay `disconnected` before an ICE restart, ms (default 4000). */
  disconnectedRestartMs?: number;
}

export type RoomCallPhase = 'idle' | 'joining' | 'joined';

export interface MediaSwitches {
  microphone: boolean;
  camera: boolean;
  /** The id of the stream that carries the screen share, or null. */
  screen: string | null;
}

export interface RemotePeerView {
  id: string;
  name: string;
  joinedAt: number;
  /** This page is the polite side of the pair (the peer joined later). */
  polite: boolean;
  connectionState: RTCPeerConnectionState | 'waiting' | 'unverified';
  /** Camera and microphone. */
  stream: MediaStream | null;
  /** The peer's screen share, when it shares one. */
  screen: MediaStream | null;
  /** As the peer signalled them; `undefined` until its first `{ state }`. */
  microphone?: boolean;
  camera?: boolean;
  speaking: boolean;
  /** The number of ICE restarts this page made for the pair. */
  iceRestarts: number;
}

export interface RoomCallView {
  phase: RoomCallPhase;
  /** Everyone in the room's call, this page included, oldest first (from `roomCall`). */
  participants: readonly CallPeer[];
  /** The other participants this page is connected (or connecting) to, oldest first. */
  peers: readonly RemotePeerView[];
  local: {
    stream: MediaStream | null;
    /** This page's screen share, when it shares one. */
    screen: MediaStream | null;
    microphone: boolean;
    camera: boolean;
    speaking: boolean;
  };
  /** The id of whoever is loudest right now (this page's own id included), or null. */
  activeSpeaker: string | null;
  /** The last error, for the page to say (`CALL_FULL`, no devices, …). */
  error: { code: string; message: string } | null;
}

type Signal =
  | { description: RTCSessionDescriptionInit; proof?: unknown }
  | { candidate: RTCIceCandidateInit }
  | { state: MediaSwitches };

interface Link {
  peer: CallPeer;
  polite: boolean;
  pc: RTCPeerConnection | null;
  makingOffer: boolean;
  ignoreOffer: boolean;
  /** Incoming signals, handled one after the other. */
  queue: Promise<void>;
  /** Outgoing signals, sent in order (a description waits for its proof, candidates wait for it). */
  outbox: Promise<void>;
  /** Remote candidates that came before a remote description. */
  early: RTCIceCandidateInit[];
  streams: Map<string, MediaStream>;
  remote: Partial<MediaSwitches>;
  state: RemotePeerView['connectionState'];
  /** Screen-share senders, by track id. */
  screenSenders: Map<string, RTCRtpSender>;
  disconnectedTimer?: ReturnType<typeof setTimeout>;
  audioLevel: number;
  iceRestarts: number;
  closed: boolean;
}

const SPEAKING_LEVEL = 0.02;

/** Candidate SDP descriptions and candidates, as they come out of `data` (the server does not check them). */
function parseSignal(data: unknown): Signal | null {
  if (!data || typeof data !== 'object') return null;
  const d = data as Record<string, unknown>;
  const desc = d.description as { type?: unknown; sdp?: unknown } | undefined;
  if (desc && typeof desc === 'object' && typeof desc.type === 'string') {
    if (!['offer', 'answer', 'pranswer', 'rollback'].includes(desc.type)) return null;
    return {
      description: { type: desc.type as RTCSdpType, sdp: typeof desc.sdp === 'string' ? desc.sdp : undefined },
      proof: d.proof,
    };
  }
  const cand = d.candidate as { candidate?: unknown } | undefined;
  if (cand && typeof cand === 'object' && typeof cand.candidate === 'string') {
    return { candidate: cand as RTCIceCandidateInit };
  }
  const state = d.state as Partial<MediaSwitches> | undefined;
  if (state && typeof state === 'object') {
    return {
      state: {
        microphone: state.microphone !== false,
        camera: state.camera !== false,
        screen: typeof state.screen === 'string' ? state.screen : null,
      },
    };
  }
  return null;
}

async function defaultUserMedia(): Promise<MediaStream | null> {
  const md = globalThis.navigator?.mediaDevices;
  if (!md?.getUserMedia) return null;
  const video = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } };
  for (const constraints of [{ video, audio: true }, { audio: true }, { video }]) {
    try {
      return await md.getUserMedia(constraints);
    } catch {
      /* the next, smaller set */
    }
  }
  return null;
}

type Listener = (view: RoomCallView) => void;

export class RoomCall {
  private phase: RoomCallPhase = 'idle';
  private participants: CallPeer[] = [];
  private readonly links = new Map<string, Link>();
  private local: MediaStream | null = null;
  private screen: MediaStream | null = null;
  private switches: MediaSwitches = { microphone: true, camera: true, screen: null };
  private iceServers: RTCIceServer[] = [];
  private error: RoomCallView['error'] = null;
  private activeSpeaker: string | null = null;
  private localLevel = 0;
  /** The socket id this page joined with (a new socket after a drop is not in the call). */
  private myId: string | undefined;
  /** Bumped on every join and leave: work of an earlier one stops. */
  private generation = 0;
  private statsTimer?: ReturnType<typeof setInterval>;
  private readonly listeners = new Set<Listener>();
  private readonly offs: Array<() => void>;
  private cachedView: RoomCallView | null = null;

  constructor(
    private readonly client: RoomCallClient,
    private readonly options: RoomCallOptions = {},
  ) {
    this.offs = [
      client.on('roomCall', (e) => this.onRoomCall(e)),
      client.on('callSignal', (s) => this.onSignal(s.from, s.data)),
      client.on('users', (users) => this.onUsers(users.map((u) => u.id))),
    ];
  }

  // ---------- state ----------

  /** Subscribe to changes; returns a function that unsubscribes. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get view(): RoomCallView {
    if (this.cachedView) return this.cachedView;
    const peers = [...this.links.values()]
      .sort((a, b) => a.peer.joinedAt - b.peer.joinedAt)
      .map((l): RemotePeerView => {
        const screenId = l.remote.screen ?? null;
        const streams = [...l.streams.values()].filter((s) => s.getTracks().length > 0);
        return {
          id: l.peer.id,
          name: l.peer.name,
          joinedAt: l.peer.joinedAt,
          polite: l.polite,
          connectionState: l.state,
          stream: streams.find((s) => s.id !== screenId) ?? null,
          screen: (screenId && streams.find((s) => s.id === screenId)) || null,
          microphone: l.remote.microphone,
          camera: l.remote.camera,
          speaking: this.activeSpeaker === l.peer.id && l.remote.microphone !== false,
          iceRestarts: l.iceRestarts,
        };
      });
    this.cachedView = {
      phase: this.phase,
      participants: this.participants,
      peers,
      local: {
        stream: this.local,
        screen: this.screen,
        microphone: this.switches.microphone,
        camera: this.switches.camera,
        speaking: this.activeSpeaker !== null && this.activeSpeaker === this.myId && this.switches.microphone,
      },
      activeSpeaker: this.activeSpeaker,
      error: this.error,
    };
    return this.cachedView;
  }

  /** The peer connection of one pair (diagnostics and tests). */
  peerConnection(peerId: string): RTCPeerConnection | null {
    return this.links.get(peerId)?.pc ?? null;
  }

  /** The bitrate each outgoing video gets with `peers` others in the call. */
  videoBitrate(peers = this.links.size): number {
    const budget = this.options.videoBudget ?? 1_500_000;
    const floor = this.options.videoFloor ?? 150_000;
    return Math.max(floor, Math.round(budget / Math.max(1, peers)));
  }

  // ---------- actions ----------

  /** Get the camera and microphone, then join; errors land in `view.error` (and reject). */
  async join(): Promise<void> {
    if (this.phase !== 'idle') return;
    const gen = ++this.generation;
    this.phase = 'joining';
    this.error = null;
    this.changed();
    try {
      const [local, iceServers] = await Promise.all([
        (this.options.getUserMedia ?? defaultUserMedia)(),
        this.client.iceServers().catch(() => [] as RTCIceServerLike[]),
      ]);
      if (gen !== this.generation) {
        local?.getTracks().forEach((t) => t.stop());
        return;
      }
      this.local = local;
      this.iceServers = iceServers as RTCIceServer[];
      this.switches = { microphone: true, camera: true, screen: null };
      if (!local) this.error = { code: 'NO_DEVICES', message: 'No camera or microphone: you will only receive.' };
      this.myId = this.client.id;
      const earlier = await this.client.joinCall();
      if (gen !== this.generation) return;
      this.phase = 'joined';
      // This page joined after each of them: impolite, it sends the first offers.
      for (const p of earlier) if (p.id !== this.myId) this.connect(p, false);
      // A `roomCall` that came meanwhile may name later ones too.
      this.reconcile();
      this.startStats();
      this.changed();
    } catch (err) {
      if (gen !== this.generation) return;
      this.stopAll();
      this.phase = 'idle';
      this.error = { code: (err as { code?: string }).code ?? 'FAILED', message: errorMessage(err) };
      this.changed();
      throw err;
    }
  }

  /** Leave the call: every pair is torn down, the devices are released. */
  async leave(): Promise<void> {
    if (this.phase === 'idle') return;
    this.end(null);
    await this.client.leaveCall().catch(() => undefined);
  }

  /**
   * Forget the call without telling the server (the page left the room, or its socket was
   * replaced after a drop: the server already took it out). `reason` becomes `view.error`.
   */
  reset(reason?: { code: string; message: string }): void {
    if (this.phase !== 'idle') this.end(reason ?? null);
    this.participants = [];
    this.changed();
  }

  setMicrophone(enabled: boolean): void {
    this.local?.getAudioTracks().forEach((t) => (t.enabled = enabled));
    this.updateSwitches({ microphone: enabled });
  }

  setCamera(enabled: boolean): void {
    this.local?.getVideoTracks().forEach((t) => (t.enabled = enabled));
    this.updateSwitches({ camera: enabled });
  }

  /**
   * Share the screen (or any video stream, e.g. a second camera in tests): its track is
   * added to every pair, which renegotiates; stopping it removes the track again.
   */
  async startScreenShare(stream?: MediaStream): Promise<void> {
    if (this.phase !== 'joined' || this.screen) return;
    let share: MediaStream;
    try {
      share = stream ?? (await this.displayMedia());
    } catch (err) {
      this.error = { code: 'SCREEN', message: `Could not share the screen: ${errorMessage(err)}` };
      this.changed();
      throw err;
    }
    if (this.phase !== 'joined') {
      share.getTracks().forEach((t) => t.stop());
      return;
    }
    this.screen = share;
    for (const track of share.getVideoTracks()) track.addEventListener('ended', () => this.stopScreenShare());
    // The state first: the peer then knows which of the streams is the screen when it arrives.
    this.updateSwitches({ screen: share.id });
    for (const link of this.links.values()) this.addScreenTo(link);
    this.applyBitrates();
  }

  stopScreenShare(): void {
    const share = this.screen;
    if (!share) return;
    this.screen = null;
    share.getTracks().forEach((t) => t.stop());
    for (const link of this.links.values()) {
      for (const sender of link.screenSenders.values()) {
        if (link.pc && link.pc.signalingState !== 'closed') link.pc.removeTrack(sender);
      }
      link.screenSenders.clear();
    }
    this.updateSwitches({ screen: null });
  }

  /** Restart ICE on one pair (or on all): a new offer with new ICE credentials. */
  restartIce(peerId?: string): void {
    for (const link of this.links.values()) {
      if (peerId !== undefined && link.peer.id !== peerId) continue;
      if (!link.pc || link.pc.signalingState === 'closed') continue;
      link.iceRestarts += 1;
      link.pc.restartIce();
    }
    this.changed();
  }

  dispose(): void {
    this.offs.splice(0).forEach((off) => off());
    if (this.phase !== 'idle') {
      this.end(null);
      this.client.leaveCall().catch(() => undefined);
    }
    this.listeners.clear();
  }

  // ---------- server events ----------

  private onRoomCall(e: RoomCallEvent): void {
    this.participants = e.peers;
    if (this.phase === 'joined') {
      if (!e.peers.some((p) => p.id === this.myId)) {
        // The server no longer counts this page in (a drop replaced its socket).
        this.end({ code: 'DISCONNECTED', message: 'You were disconnected from the call.' });
      } else {
        this.reconcile();
      }
    }
    this.changed();
  }

  /**
   * `users` comes on every change of the room and on each login: participants that are no
   * longer members are gone (a new login, or a new socket after a drop, sees no stale call).
   */
  private onUsers(ids: string[]): void {
    const members = new Set(ids);
    if (this.phase !== 'idle' && this.myId && !members.has(this.myId)) {
      this.end({ code: 'DISCONNECTED', message: 'You were disconnected from the call.' });
    }
    const still = this.participants.filter((p) => members.has(p.id));
    if (still.length === this.participants.length) return;
    this.participants = still;
    this.changed();
  }

  /** Links for the participants `roomCall` lists, none for the others. */
  private reconcile(): void {
    const all = this.participants;
    const mine = all.findIndex((p) => p.id === this.myId);
    if (mine < 0) return;
    all.forEach((p, i) => {
      if (i === mine) return;
      const link = this.links.get(p.id);
      if (link) link.peer = p;
      // Joined after this page (the list is oldest first): polite, it waits for the offer.
      else if (i > mine) this.links.set(p.id, this.newLink(p, true));
      else this.connect(p, false);
    });
    for (const id of [...this.links.keys()]) if (!all.some((p) => p.id === id)) this.drop(id);
    this.applyBitrates();
  }

  private onSignal(from: string, data: unknown): void {
    if (this.phase === 'idle') return;
    const signal = parseSignal(data);
    if (!signal) return;
    let link = this.links.get(from);
    if (!link) {
      // A newcomer's first offer may overtake its `roomCall` (nodes of a cluster): it joined later.
      const peer = this.participants.find((p) => p.id === from) ?? { id: from, name: 'Someone', joinedAt: Date.now() };
      link = this.newLink(peer, true);
      this.links.set(from, link);
    }
    const l = link;
    l.queue = l.queue.then(() => this.handleSignal(l, signal)).catch(() => undefined);
  }

  // ---------- one pair ----------

  private newLink(peer: CallPeer, polite: boolean): Link {
    return {
      peer,
      polite,
      pc: null,
      makingOffer: false,
      ignoreOffer: false,
      queue: Promise.resolve(),
      outbox: Promise.resolve(),
      early: [],
      streams: new Map(),
      remote: {},
      state: 'waiting',
      screenSenders: new Map(),
      audioLevel: 0,
      iceRestarts: 0,
      closed: false,
    };
  }

  /** Make the pair's peer connection with the local tracks; the impolite side's offer follows. */
  private connect(peer: CallPeer, polite: boolean): Link {
    const link = this.links.get(peer.id) ?? this.newLink(peer, polite);
    this.links.set(peer.id, link);
    this.ensurePeerConnection(link);
    this.applyBitrates();
    return link;
  }

  private ensurePeerConnection(link: Link): RTCPeerConnection {
    if (link.pc) return link.pc;
    const create = this.options.createPeerConnection ?? ((c: RTCConfiguration) => new RTCPeerConnection(c));
    const pc = create({ iceServers: this.iceServers });
    link.pc = pc;
    link.state = pc.connectionState;
    if (this.local) for (const track of this.local.getTracks()) pc.addTrack(track, this.local);
    // Receive both kinds even without a device (only the offerer needs to ask).
    if (!link.polite) {
      const kinds = new Set(this.local?.getTracks().map((t) => t.kind));
      for (const kind of ['audio', 'video']) if (!kinds.has(kind)) pc.addTransceiver(kind, { direction: 'recvonly' });
    }
    this.addScreenTo(link);

    pc.onnegotiationneeded = async () => {
      if (link.closed) return;
      try {
        link.makingOffer = true;
        await pc.setLocalDescription();
        if (link.closed || !pc.localDescription) return;
        this.sendDescription(link, pc.localDescription);
      } catch {
        /* a rollback or a closed connection: the next negotiationneeded tries again */
      } finally {
        link.makingOffer = false;
      }
    };
    pc.onicecandidate = (e) => {
      if (link.closed || !e.candidate || !e.candidate.candidate) return;
      this.send(link, { candidate: e.candidate.toJSON() });
    };
    pc.ontrack = (e) => {
      if (link.closed) return;
      const stream = e.streams[0] ?? new MediaStream([e.track]);
      if (!stream.getTracks().includes(e.track)) stream.addTrack(e.track);
      if (!link.streams.has(stream.id)) {
        link.streams.set(stream.id, stream);
        stream.addEventListener?.('removetrack', () => this.changed());
      }
      e.track.addEventListener?.('ended', () => this.changed());
      this.changed();
    };
    pc.onconnectionstatechange = () => this.onConnectionState(link);
    pc.onsignalingstatechange = () => {
      if (pc.signalingState === 'stable') this.applyBitrates();
    };
    // The peer learns this page's switches (the relay keeps them in order with the offer).
    this.send(link, { state: this.switches });
    return pc;
  }

  private onConnectionState(link: Link): void {
    const pc = link.pc;
    if (!pc || link.closed) return;
    link.state = pc.connectionState;
    clearTimeout(link.disconnectedTimer);
    if (pc.connectionState === 'failed') {
      this.restartIce(link.peer.id);
    } else if (pc.connectionState === 'disconnected') {
      link.disconnectedTimer = setTimeout(() => {
        if (!link.closed && pc.connectionState === 'disconnected') this.restartIce(link.peer.id);
      }, this.options.disconnectedRestartMs ?? 4000);
    } else if (pc.connectionState === 'connected') {
      this.applyBitrates();
    }
    this.changed();
  }

  /** The W3C perfect-negotiation receiver, one signal at a time. */
  private async handleSignal(link: Link, signal: Signal): Promise<void> {
    if (link.closed) return;
    if ('state' in signal) {
      link.remote = signal.state;
      this.changed();
      return;
    }
    const pc = this.ensurePeerConnection(link);
    if ('description' in signal) {
      const { description } = signal;
      const verifier = this.options.fingerprints;
      if (verifier && !(await verifier.verify(link.peer.id, description, signal.proof).catch(() => false))) {
        this.drop(link.peer.id, 'unverified');
        return;
      }
      if (link.closed) return;
      const collision = description.type === 'offer' && (link.makingOffer || pc.signalingState !== 'stable');
      link.ignoreOffer = !link.polite && collision;
      if (link.ignoreOffer) return;
      if (collision) await pc.setLocalDescription({ type: 'rollback' });
      await pc.setRemoteDescription(description);
      for (const c of link.early.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
      if (description.type === 'offer') {
        await pc.setLocalDescription();
        if (!link.closed && pc.localDescription) this.sendDescription(link, pc.localDescription);
      }
    } else if (!pc.remoteDescription) {
      link.early.push(signal.candidate);
    } else {
      try {
        await pc.addIceCandidate(signal.candidate);
      } catch (err) {
        if (!link.ignoreOffer) throw err;
      }
    }
  }

  private sendDescription(link: Link, description: RTCSessionDescription | RTCSessionDescriptionInit): void {
    const d: RTCSessionDescriptionInit = { type: description.type, sdp: description.sdp };
    const verifier = this.options.fingerprints;
    if (!verifier) return this.send(link, { description: d });
    const signed = verifier.sign(link.peer.id, d).then((proof) => ({ description: d, proof }));
    this.send(link, signed);
  }

  /** Queue one signal; the relay keeps the order from here on. */
  private send(link: Link, data: Signal | Promise<Signal>): void {
    if (link.closed) return;
    link.outbox = link.outbox
      .then(() => data)
      .then((d) => (link.closed ? undefined : this.client.callSignal(link.peer.id, d)))
      .catch(() => undefined);
  }

  private addScreenTo(link: Link): void {
    const pc = link.pc;
    const share = this.screen;
    if (!pc || !share) return;
    for (const track of share.getVideoTracks()) {
      if (!link.screenSenders.has(track.id)) link.screenSenders.set(track.id, pc.addTrack(track, share));
    }
  }

  /** Cap each outgoing video: the uplink is shared by one copy per peer. */
  private applyBitrates(): void {
    const maxBitrate = this.videoBitrate();
    for (const link of this.links.values()) {
      const pc = link.pc;
      if (!pc || pc.signalingState === 'closed') continue;
      for (const sender of pc.getSenders()) {
        if (sender.track?.kind !== 'video') continue;
        const params = sender.getParameters();
        if (!params.encodings?.length) continue; // not negotiated yet: applied when stable
        if (params.encodings.every((e) => e.maxBitrate === maxBitrate)) continue;
        for (const e of params.encodings) e.maxBitrate = maxBitrate;
        sender.setParameters(params).catch(() => undefined);
      }
    }
  }

  private updateSwitches(change: Partial<MediaSwitches>): void {
    this.switches = { ...this.switches, ...change };
    for (const link of this.links.values()) if (link.pc) this.send(link, { state: this.switches });
    this.changed();
  }

  private drop(peerId: string, state?: 'unverified'): void {
    const link = this.links.get(peerId);
    if (!link) return;
    this.closeLink(link);
    if (state) {
      link.state = state;
      this.error = {
        code: 'UNVERIFIED',
        message: `${link.peer.name}'s call could not be verified: its key fingerprints do not match their key. Not connected.`,
      };
    } else {
      this.links.delete(peerId);
    }
    if (this.activeSpeaker === peerId) this.activeSpeaker = null;
    this.applyBitrates();
    this.changed();
  }

  private closeLink(link: Link): void {
    link.closed = true;
    clearTimeout(link.disconnectedTimer);
    const pc = link.pc;
    if (!pc) return;
    pc.onnegotiationneeded = null;
    pc.onicecandidate = null;
    pc.ontrack = null;
    pc.onconnectionstatechange = null;
    pc.onsignalingstatechange = null;
    pc.close();
  }

  // ---------- the whole call ----------

  private end(error: RoomCallView['error']): void {
    this.generation += 1;
    this.stopAll();
    this.phase = 'idle';
    this.error = error;
    this.changed();
  }

  private stopAll(): void {
    for (const link of this.links.values()) this.closeLink(link);
    this.links.clear();
    this.local?.getTracks().forEach((t) => t.stop());
    this.screen?.getTracks().forEach((t) => t.stop());
    this.local = null;
    this.screen = null;
    this.switches = { microphone: true, camera: true, screen: null };
    this.activeSpeaker = null;
    this.myId = undefined;
    clearInterval(this.statsTimer);
    this.statsTimer = undefined;
  }

  private async displayMedia(): Promise<MediaStream> {
    if (this.options.getDisplayMedia) return this.options.getDisplayMedia();
    const md = globalThis.navigator?.mediaDevices;
    if (!md?.getDisplayMedia) throw new Error('Screen sharing is not available in this browser.');
    return md.getDisplayMedia({ video: { frameRate: { ideal: 10 } }, audio: false });
  }

  /** Audio levels from getStats: who is speaking. */
  private startStats(): void {
    const every = this.options.statsIntervalMs ?? 500;
    if (every <= 0 || this.statsTimer) return;
    this.statsTimer = setInterval(() => void this.readLevels(), every);
  }

  private async readLevels(): Promise<void> {
    const gen = this.generation;
    let local = 0;
    await Promise.all(
      [...this.links.values()].map(async (link) => {
        if (!link.pc || link.closed) return;
        const report = await link.pc.getStats().catch(() => null);
        let level = 0;
        report?.forEach((s: { type?: string; kind?: string; audioLevel?: number }) => {
          if (s.type === 'inbound-rtp' && s.kind === 'audio') level = Math.max(level, s.audioLevel ?? 0);
          if (s.type === 'media-source' && s.kind === 'audio') local = Math.max(local, s.audioLevel ?? 0);
        });
        link.audioLevel = level;
      }),
    );
    if (gen !== this.generation) return;
    this.localLevel = this.switches.microphone ? local : 0;
    let best: string | null = null;
    let bestLevel = SPEAKING_LEVEL;
    if (this.localLevel > bestLevel && this.myId) [best, bestLevel] = [this.myId, this.localLevel];
    for (const link of this.links.values()) {
      if (link.remote.microphone !== false && link.audioLevel > bestLevel)
        [best, bestLevel] = [link.peer.id, link.audioLevel];
    }
    if (best !== this.activeSpeaker) {
      this.activeSpeaker = best;
      this.changed();
    }
  }

  private changed(): void {
    this.cachedView = null;
    const view = this.view;
    for (const l of [...this.listeners]) l(view);
  }
}

function errorMessage(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'CALL_FULL') return 'The call is full.';
  if (code === 'ALREADY_IN_CALL') return 'You are already in this call.';
  return err instanceof Error ? err.message : String(err);
}
