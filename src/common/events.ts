/**
 * The wire contract as TypeScript: every event a client may send and every event the
 * server emits, per docs/PROTOCOL.md. Shared by the server, the tests and client code.
 */

/** A member's presence (v1.2); `online` is never stored or listed (the field is absent). */
export type UserStatus = 'online' | 'away' | 'busy';

export interface User {
  id: string;
  name: string;
  room: string;
  publicKey?: string;
  joinedAt: number;
  /** Absent while the member is online. */
  status?: 'away' | 'busy';
}

export type { ErrorCode } from './errors/error-codes.js';
import type { ErrorCode } from './errors/error-codes.js';

export interface ErrorReply {
  error: string;
  code: ErrorCode;
}

export interface ExceptionEvent extends ErrorReply {
  event: string;
}

/** What an ack receives: the success shape or the error shape. */
export type Reply<T> = T | ErrorReply;
export type Ack<T> = (reply: Reply<T>) => void;
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type Empty = {};

export interface LoginPayload {
  name: string;
  room: string;
  publicKey?: string;
}
export interface RoomMessagePayload {
  message: string;
}
export interface HistoryPayload {
  /** The offset of the last message the client has; needs `epoch`. */
  since?: number;
  epoch?: string;
  /** 1–1000; default HISTORY_SIZE (at least 1). */
  limit?: number;
}
/** What a room message's ack carries: its id, time and place in the room. */
export interface MessageAck {
  id: string;
  at: number;
  offset: number;
  epoch: string;
}
/** A retained message whose text was removed (v1.2 `redact`): its tombstone, as `history` returns it. */
export interface RedactedMessage {
  id: string;
  room: string;
  from: string;
  fromId: string;
  at: number;
  offset: number;
  epoch: string;
  redacted: true;
}

/** `redacted`: a retained message of the room lost its text; `by` is the redacting socket, or 'server'. */
export interface RedactedEvent {
  room: string;
  offset: number;
  epoch: string;
  id: string;
  by: string;
  at: number;
}

export interface HistoryReply {
  /** Oldest first; a redacted message is a tombstone (`redacted: true`, no `message`). */
  messages: Array<RoomMessage | RedactedMessage>;
  /** The room's latest offset (0 when it has had no message in this epoch). */
  offset: number;
  epoch: string;
  /** True exactly when `messages` holds every message of the epoch above `since`. */
  complete: boolean;
}
export interface DirectItemPayload {
  /** The recipient's socket id: another member of the sender's room. */
  to: string;
  /** Opaque to the server. */
  payload: unknown;
}
export interface DirectPayload {
  items: DirectItemPayload[];
}
/** What each recipient of a `direct` item receives. */
export interface DirectMessage {
  from: string;
  fromId: string;
  room: string;
  payload: unknown;
  at: number;
}
export interface CallPayload {
  userToCall?: string;
  to?: string;
  signal?: unknown;
  name?: string;
}
export type AnswerPayload = { to: string; signal: unknown } | { to: string; sdp: unknown };
export interface OfferPayload {
  to: string;
  sdp: unknown;
}
export interface CandidatePayload {
  to: string;
  candidate: unknown;
}
export interface SignalPayload {
  to: string;
  signal: unknown;
}
export interface HangupPayload {
  to: string;
}

/** A participant of a room's call (v1.2); `joinedAt`: when it joined the call. */
export interface CallPeer {
  id: string;
  name: string;
  joinedAt: number;
}

/** Who is in a room's call, oldest first (`peers: []` when it is over). */
export interface RoomCallEvent {
  room: string;
  peers: CallPeer[];
}

export interface ReadPayload {
  offset: number;
  epoch: string;
}

/** A member's read position in its room (v1.2); `at`: when it was set. */
export interface ReadReceipt {
  id: string;
  offset: number;
  epoch: string;
  at: number;
}

export interface CallSignalPayload {
  to: string;
  data: unknown;
}

export interface RTCIceServerLike {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface PeerConnectionInfo {
  socketId: string;
  peerId: string;
  peerType?: string;
}

export interface ClientToServerEvents {
  login: (payload: LoginPayload, ack?: Ack<{ user: User }>) => void;
  logout: (ack?: Ack<Empty>) => void;
  roomMessage: (payload: RoomMessagePayload | string, ack?: Ack<MessageAck>) => void;
  history: (payload: HistoryPayload, ack?: Ack<HistoryReply>) => void;
  listUsers: (ack?: Ack<{ users: User[] }>) => void;
  direct: (payload: DirectPayload, ack?: Ack<{ at: number }>) => void;
  ping: (ack?: (reply: string | ErrorReply) => void) => void;
  call: (payload: CallPayload, ack?: Ack<Empty>) => void;
  answer: (payload: AnswerPayload, ack?: Ack<Empty>) => void;
  offer: (payload: OfferPayload, ack?: Ack<Empty>) => void;
  candidate: (payload: CandidatePayload, ack?: Ack<Empty>) => void;
  signal: (payload: SignalPayload, ack?: Ack<Empty>) => void;
  hangup: (payload: HangupPayload, ack?: Ack<Empty>) => void;
  iceServers: (ack?: Ack<{ iceServers: RTCIceServerLike[] }>) => void;
  redact: (payload: ReadPayload, ack?: Ack<Empty>) => void;
  setStatus: (payload: { status: UserStatus }, ack?: Ack<Empty>) => void;
  typing: (payload: { active: boolean }, ack?: Ack<Empty>) => void;
  read: (payload: ReadPayload, ack?: Ack<{ offset: number }>) => void;
  receipts: (ack?: Ack<{ receipts: ReadReceipt[] }>) => void;
  joinCall: (ack?: Ack<{ peers: CallPeer[] }>) => void;
  leaveCall: (ack?: Ack<Empty>) => void;
  callSignal: (payload: CallSignalPayload, ack?: Ack<Empty>) => void;
  // Compatibility events (docs/PROTOCOL.md, "Compatibility events").
  'send-message': (payload: RoomMessagePayload, ack?: Ack<MessageAck>) => void;
  register: (name: string, ack?: Ack<Empty>) => void;
  getOnlineUsers: (ack?: Ack<Empty>) => void;
  ready: (peerId: string, peerType?: string) => void;
  message: (payload: Record<string, unknown>, ack?: Ack<Empty>) => void;
  messageOne: (payload: { target: string } & Record<string, unknown>, ack?: Ack<Empty>) => void;
}

export type NotificationType = 'join' | 'leave' | 'server';

/** Someone joined or left the room. */
export interface Notification {
  type: 'join' | 'leave';
  title: string;
  description: string;
  user: User;
  at: number;
}

/** An announcement the application's backend sent through POST /rooms/:room/notifications. */
export interface ServerNotification {
  type: 'server';
  title: string;
  description: string;
  at: number;
}

/** The socket was removed from its room through DELETE /rooms/:room/users/:id. */
export interface KickedEvent {
  room: string;
  reason: string;
}

export interface RoomMessage {
  id: string;
  room: string;
  message: string;
  from: string;
  fromId: string;
  at: number;
  /** The message's place in its room within `epoch`: 1, 2, 3, … */
  offset: number;
  /** The room's epoch; offsets compare only within one epoch. */
  epoch: string;
}

export type EndReason = 'hangup' | 'disconnected' | 'timeout';

export interface ServerToClientEvents {
  me: (id: string) => void;
  notification: (notice: Notification | ServerNotification) => void;
  users: (users: User[]) => void;
  roomMessage: (message: RoomMessage) => void;
  direct: (message: DirectMessage) => void;
  call: (incoming: { from: string; name?: string; signal?: unknown }) => void;
  accepted: (signal: unknown) => void;
  answer: (answer: { sdp: unknown; socketId: string; from: string }) => void;
  offer: (offer: { sdp: unknown; socketId: string; from: string }) => void;
  candidate: (candidate: { candidate: unknown; from: string }) => void;
  signal: (signal: { signal: unknown; from: string }) => void;
  ended: (end: { from: string; reason: EndReason }) => void;
  exception: (error: ExceptionEvent) => void;
  kicked: (event: KickedEvent) => void;
  redacted: (event: RedactedEvent) => void;
  presence: (event: { id: string; status: UserStatus; at: number }) => void;
  typing: (event: { id: string; active: boolean }) => void;
  read: (receipt: ReadReceipt) => void;
  roomCall: (event: RoomCallEvent) => void;
  callSignal: (signal: { from: string; data: unknown }) => void;
  // Compatibility events.
  'user-connected': (event: { message: string; user: User }) => void;
  'user-disconnected': (event: { message: string; user: User }) => void;
  'new-message': (message: {
    msg: string;
    from: string;
    fromId: string;
    id: string;
    at: number;
    offset: number;
    epoch: string;
  }) => void;
  userConnected: (user: { id: string; name: string }) => void;
  userDisconnected: (id: string) => void;
  onlineUsers: (users: Record<string, string>) => void;
  message: (message: Record<string, unknown>) => void;
  uniquenessError: (error: { message: string; error: string }) => void;
}

/** Messages between nodes (Socket.IO serverSideEmit); see RealtimeService.onNode. */
export interface InterServerEvents {
  /** The socket `id`, wherever it is connected, leaves `room` without being told (kick). */
  'parley:forget': (id: string, room: string) => void;
}

/** Per-socket state Socket.IO keeps (and, with connection state recovery, restores). */
export interface SocketData {
  user?: User;
  lobbyName?: string;
  peerId?: string;
  peerType?: string;
  /** Verified JWT claims, when authentication is on. */
  auth?: { rooms?: string[]; name?: string; exp?: number };
}
