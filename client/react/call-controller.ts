/**
 * One 1:1 WebRTC call at a time over Parley's signaling events.
 *
 * Flow (raw WebRTC, caller makes the offer):
 *   caller: getUserMedia → createOffer → `call { userToCall, name, signal: offer }`
 *   callee: `call` arrives → prompt → accept → `answer { to, sdp }` (decline → `hangup`)
 *   both:   trickle ICE with `candidate { to, candidate }`; renegotiation with `offer`/`answer`
 *   end:    `hangup { to }` → the peer gets `ended { reason: 'hangup' }`; the server also
 *           ends calls with `timeout` (unanswered) and `disconnected` (peer left).
 *
 * With `fingerprints` (member-keys rooms: client/call-auth.ts), each description carries a
 * proof of its DTLS fingerprints inside the signal (`{ type, sdp, proof }`, opaque to the
 * server) and a remote one is checked before it is applied: a call that does not verify is
 * hung up and ends as `unverified`, and an incoming one never rings. With `peerName`, the
 * caller is named by the server-stamped `users` entry of its socket, never by the `name` it
 * chose itself.
 *
 * Framework-free; `useCall` (use-call.ts) holds one for a React page.
 */
import type { ParleyClient } from '../index.js';
import type { DescriptionVerifier } from '../room-call.js';

export interface CallControllerOptions {
  /** Signs local descriptions and checks remote ones (see client/call-auth.ts). */
  fingerprints?: DescriptionVerifier;
  /** The server-stamped name of a socket (its `users` entry); used instead of the caller's `name`. */
  peerName?(peerId: string): string | undefined;
}

export type CallPhase = 'idle' | 'outgoing' | 'incoming' | 'connecting' | 'connected' | 'ended';

/** Why a call ended, as shown to the user and exposed as `data-reason`. */
export type EndKind =
  | 'hangup' // we hung up
  | 'remote-hangup' // the peer hung up an active call
  | 'declined' // the callee declined our call
  | 'cancelled' // the caller gave up before we answered
  | 'timeout' // nobody answered in time
  | 'missed' // we did not answer in time
  | 'peer-left' // the peer disconnected
  | 'busy' // we were already in a call
  | 'unverified' // the peer's DTLS fingerprints were not signed by its key
  | 'failed'; // media or network error

export interface CallView {
  phase: CallPhase;
  peerId: string;
  peerName: string;
  /** Human sentence for the status line. */
  status: string;
  endKind?: EndKind;
}

export interface CallEvents {
  change(view: CallView): void;
  incoming(call: { peerId: string; peerName: string }): void;
  localStream(stream: MediaStream | null): void;
  remoteStream(stream: MediaStream | null): void;
  error(message: string): void;
}

interface Session {
  peerId: string;
  peerName: string;
  role: 'caller' | 'callee';
  phase: CallPhase;
  pc?: RTCPeerConnection;
  local?: MediaStream;
  remote?: MediaStream;
  offer?: RTCSessionDescriptionInit;
  /** Remote candidates that arrived before the remote description. */
  pendingRemote: RTCIceCandidateInit[];
  /** Resolves when the server knows about the call, so our candidates can be relayed. */
  signalingReady: Promise<void>;
  markReady: () => void;
  ended: boolean;
}

function proofOf(value: unknown): unknown {
  return value && typeof value === 'object' ? (value as { proof?: unknown }).proof : undefined;
}

function asDescription(value: unknown, type: RTCSdpType): RTCSessionDescriptionInit | null {
  if (typeof value === 'string') return { type, sdp: value };
  if (value && typeof value === 'object' && typeof (value as { sdp?: unknown }).sdp === 'string') {
    const v = value as { type?: unknown; sdp: string };
    return { type: (typeof v.type === 'string' ? v.type : type) as RTCSdpType, sdp: v.sdp };
  }
  return null;
}

function asCandidate(value: unknown): RTCIceCandidateInit | null {
  if (value && typeof value === 'object' && typeof (value as { candidate?: unknown }).candidate === 'string') {
    return value as RTCIceCandidateInit;
  }
  return null;
}

export class CallController {
  private session: Session | null = null;
  /** The last RTCPeerConnection, kept after the call ends (for diagnostics and tests). */
  lastPeerConnection: RTCPeerConnection | null = null;
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly client: ParleyClient,
    private readonly myName: () => string,
    private readonly events: CallEvents,
    private readonly options: CallControllerOptions = {},
  ) {
    this.offs.push(
      client.on('call', (incoming) => this.onIncoming(incoming)),
      client.on('answer', (a) => void this.onAnswer(a.from, a.sdp)),
      client.on('offer', (o) => void this.onOffer(o.from, o.sdp)),
      client.on('candidate', (c) => void this.onCandidate(c.from, c.candidate)),
      client.on('ended', (e) => this.onEnded(e.from, e.reason)),
    );
  }

  get peerConnection(): RTCPeerConnection | null {
    return this.session?.pc ?? this.lastPeerConnection;
  }

  get phase(): CallPhase {
    return this.session?.phase ?? 'idle';
  }

  get peerId(): string | null {
    return this.session && !this.session.ended ? this.session.peerId : null;
  }

  get busy(): boolean {
    return !!this.session && !this.session.ended;
  }

  dispose(): void {
    for (const off of this.offs.splice(0)) off();
    if (this.busy) this.hangup();
  }

  // ---------- actions ----------

  /** Call `peerId`. Rejects nothing: failures end the call with a status. */
  async start(peerId: string, peerName: string): Promise<void> {
    if (this.busy) return;
    const s = this.newSession(peerId, peerName, 'caller', 'outgoing');
    this.emitChange(`Calling ${peerName}…`);
    try {
      const pc = await this.preparePeerConnection(s);
      if (s.ended) return;
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      if (s.ended) return;
      const signal = await this.signed(peerId, { type: offer.type, sdp: offer.sdp });
      if (s.ended) return;
      await this.client.call(peerId, { name: this.myName(), signal });
      s.markReady();
      if (!s.ended) this.emitChange(`Ringing ${peerName}…`);
    } catch (err) {
      this.fail(s, err);
    }
  }

  async accept(): Promise<void> {
    const s = this.session;
    if (!s || s.ended || s.phase !== 'incoming' || !s.offer) return;
    s.phase = 'connecting';
    this.emitChange('Connecting…');
    try {
      const pc = await this.preparePeerConnection(s);
      if (s.ended) return;
      await pc.setRemoteDescription(s.offer);
      await this.flushRemoteCandidates(s);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      if (s.ended) return;
      const sdp = await this.signed(s.peerId, { type: answer.type, sdp: answer.sdp });
      if (s.ended) return;
      await this.client.answer(s.peerId, { sdp });
    } catch (err) {
      this.fail(s, err);
    }
  }

  decline(): void {
    const s = this.session;
    if (!s || s.ended) return;
    this.client.hangup(s.peerId).catch(() => undefined);
    this.finish(s, 'hangup', 'Call declined');
  }

  hangup(): void {
    const s = this.session;
    if (!s || s.ended) return;
    this.client.hangup(s.peerId).catch(() => undefined);
    this.finish(s, 'hangup', s.phase === 'outgoing' ? 'Call cancelled' : 'Call ended');
  }

  setMicrophone(enabled: boolean): void {
    this.session?.local?.getAudioTracks().forEach((t) => (t.enabled = enabled));
  }

  setCamera(enabled: boolean): void {
    this.session?.local?.getVideoTracks().forEach((t) => (t.enabled = enabled));
  }

  // ---------- server events ----------

  private onIncoming(incoming: { from: string; name?: string; signal?: unknown }): void {
    const peerName = this.options.peerName
      ? (this.options.peerName(incoming.from) ?? 'Unknown caller')
      : (incoming.name ?? 'Someone');
    if (this.busy) {
      // One call at a time: tell the caller we are busy.
      this.client.hangup(incoming.from).catch(() => undefined);
      this.events.error(`${peerName} tried to call you while you were in a call.`);
      return;
    }
    const offer = asDescription(incoming.signal, 'offer');
    if (!offer || offer.type !== 'offer') {
      this.client.hangup(incoming.from).catch(() => undefined);
      this.events.error(`${peerName} called with an unsupported client.`);
      return;
    }
    const s = this.newSession(incoming.from, peerName, 'callee', 'incoming');
    s.offer = offer;
    s.markReady();
    const ring = () => {
      this.emitChange(`${peerName} is calling…`);
      this.events.incoming({ peerId: s.peerId, peerName });
    };
    // Signed calls ring only once their proof is checked.
    if (!this.options.fingerprints) return ring();
    void this.verified(s, offer, proofOf(incoming.signal)).then((ok) => ok && ring());
  }

  private async onAnswer(from: string, sdp: unknown): Promise<void> {
    const s = this.session;
    if (!s || s.ended || s.peerId !== from || !s.pc) return;
    const answer = asDescription(sdp, 'answer');
    if (!answer) return;
    try {
      if (!(await this.verified(s, answer, proofOf(sdp)))) return;
      if (s.phase === 'outgoing') {
        s.phase = 'connecting';
        this.emitChange('Connecting…');
      }
      await s.pc.setRemoteDescription(answer);
      await this.flushRemoteCandidates(s);
    } catch (err) {
      this.fail(s, err);
    }
  }

  /** A renegotiation offer from the peer of an established call. */
  private async onOffer(from: string, sdp: unknown): Promise<void> {
    const s = this.session;
    if (!s || s.ended || s.peerId !== from || !s.pc) return;
    const offer = asDescription(sdp, 'offer');
    if (!offer) return;
    try {
      if (!(await this.verified(s, offer, proofOf(sdp)))) return;
      await s.pc.setRemoteDescription(offer);
      await this.flushRemoteCandidates(s);
      const answer = await s.pc.createAnswer();
      await s.pc.setLocalDescription(answer);
      const signed = await this.signed(s.peerId, { type: answer.type, sdp: answer.sdp });
      await this.client.answer(s.peerId, { sdp: signed });
    } catch (err) {
      this.fail(s, err);
    }
  }

  private async onCandidate(from: string, value: unknown): Promise<void> {
    const s = this.session;
    if (!s || s.ended || s.peerId !== from) return;
    const candidate = asCandidate(value);
    if (!candidate) return;
    if (!s.pc || !s.pc.remoteDescription) {
      s.pendingRemote.push(candidate);
      return;
    }
    await s.pc.addIceCandidate(candidate).catch(() => undefined);
  }

  private onEnded(from: string, reason: 'hangup' | 'disconnected' | 'timeout'): void {
    const s = this.session;
    if (!s || s.ended || s.peerId !== from) return;
    const name = s.peerName;
    if (reason === 'timeout') {
      if (s.role === 'caller') this.finish(s, 'timeout', `${name} didn't answer`);
      else this.finish(s, 'missed', `Missed call from ${name}`);
    } else if (reason === 'disconnected') {
      this.finish(s, 'peer-left', `${name} left`);
    } else if (s.role === 'caller' && s.phase === 'outgoing') {
      this.finish(s, 'declined', `${name} declined the call`);
    } else if (s.role === 'callee' && s.phase === 'incoming') {
      this.finish(s, 'cancelled', `${name} cancelled the call`);
    } else {
      this.finish(s, 'remote-hangup', `${name} hung up`);
    }
  }

  // ---------- internals ----------

  /** A local description as signalled: with its proof when calls are signed. */
  private async signed(
    peerId: string,
    d: RTCSessionDescriptionInit,
  ): Promise<{ type: RTCSdpType; sdp?: string; proof?: unknown }> {
    const verifier = this.options.fingerprints;
    if (!verifier) return { type: d.type, sdp: d.sdp };
    return { type: d.type, sdp: d.sdp, proof: await verifier.sign(peerId, d) };
  }

  /**
   * Checks a remote description's proof; one that does not verify hangs up and ends the
   * call as `unverified` (resolves false).
   */
  private async verified(s: Session, d: RTCSessionDescriptionInit, proof: unknown): Promise<boolean> {
    const verifier = this.options.fingerprints;
    if (!verifier) return true;
    const ok = await verifier.verify(s.peerId, d, proof).catch(() => false);
    if (s.ended) return false;
    if (ok) return true;
    this.client.hangup(s.peerId).catch(() => undefined);
    this.finish(
      s,
      'unverified',
      `Call refused: ${s.peerName}'s key fingerprints do not match their key (someone may be in the middle)`,
    );
    this.events.error(`${s.peerName}'s call could not be verified: not connected.`);
    return false;
  }

  private newSession(peerId: string, peerName: string, role: 'caller' | 'callee', phase: CallPhase): Session {
    let markReady!: () => void;
    const signalingReady = new Promise<void>((resolve) => (markReady = resolve));
    this.session = { peerId, peerName, role, phase, pendingRemote: [], signalingReady, markReady, ended: false };
    return this.session;
  }

  private async getMedia(): Promise<MediaStream | null> {
    const md = navigator.mediaDevices;
    if (!md?.getUserMedia) return null;
    for (const constraints of [{ video: true, audio: true }, { video: true }, { audio: true }]) {
      try {
        return await md.getUserMedia(constraints);
      } catch {
        /* try the next, smaller set */
      }
    }
    return null;
  }

  private async iceServers(): Promise<RTCIceServer[]> {
    try {
      return (await this.client.iceServers()) as RTCIceServer[];
    } catch {
      return [];
    }
  }

  private async preparePeerConnection(s: Session): Promise<RTCPeerConnection> {
    const [iceServers, local] = await Promise.all([this.iceServers(), this.getMedia()]);
    if (s.ended) {
      local?.getTracks().forEach((t) => t.stop());
      throw new Error('call ended');
    }
    const pc = new RTCPeerConnection({ iceServers });
    s.pc = pc;
    this.lastPeerConnection = pc;
    if (local) {
      s.local = local;
      for (const track of local.getTracks()) pc.addTrack(track, local);
      this.events.localStream(local);
    } else {
      this.events.error('No camera or microphone available: you will only receive.');
    }
    // Always negotiate both kinds so a peer without a device still receives.
    const kinds = new Set(local?.getTracks().map((t) => t.kind));
    if (s.role === 'caller') {
      for (const kind of ['audio', 'video']) {
        if (!kinds.has(kind)) pc.addTransceiver(kind, { direction: 'recvonly' });
      }
    }
    pc.onicecandidate = (e) => {
      if (!e.candidate || !e.candidate.candidate) return;
      const candidate = e.candidate.toJSON();
      void s.signalingReady.then(() => {
        if (!s.ended) this.client.candidate(s.peerId, candidate).catch(() => undefined);
      });
    };
    pc.ontrack = (e) => {
      if (!s.remote) s.remote = e.streams[0] ?? new MediaStream();
      if (!s.remote.getTracks().includes(e.track)) s.remote.addTrack(e.track);
      this.events.remoteStream(s.remote);
    };
    pc.onconnectionstatechange = () => {
      if (s.ended) return;
      if (pc.connectionState === 'connected') {
        s.phase = 'connected';
        this.emitChange('Connected');
      } else if (pc.connectionState === 'failed') {
        this.client.hangup(s.peerId).catch(() => undefined);
        this.finish(s, 'failed', 'Connection failed (network)');
      }
    };
    return pc;
  }

  private async flushRemoteCandidates(s: Session): Promise<void> {
    const pending = s.pendingRemote.splice(0);
    for (const c of pending) await s.pc?.addIceCandidate(c).catch(() => undefined);
  }

  private fail(s: Session, err: unknown): void {
    if (s.ended) return;
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: string }).code;
    if (code !== 'NO_CALL') this.client.hangup(s.peerId).catch(() => undefined);
    const text =
      code === 'ALREADY_IN_CALL'
        ? `You are already in a call with ${s.peerName}`
        : code === 'NOT_FOUND'
          ? `${s.peerName} is no longer here`
          : `Call failed: ${message}`;
    this.finish(s, code === 'NOT_FOUND' ? 'peer-left' : 'failed', text);
  }

  private finish(s: Session, kind: EndKind, status: string): void {
    if (s.ended) return;
    s.ended = true;
    s.phase = 'ended';
    s.markReady();
    s.local?.getTracks().forEach((t) => t.stop());
    if (s.pc) {
      s.pc.onicecandidate = null;
      s.pc.ontrack = null;
      s.pc.close();
    }
    this.events.localStream(null);
    this.events.remoteStream(null);
    this.emitChange(status, kind);
  }

  private emitChange(status: string, endKind?: EndKind): void {
    const s = this.session;
    if (!s) return;
    this.events.change({ phase: s.phase, peerId: s.peerId, peerName: s.peerName, status, endKind });
  }
}
