/** Parley's typed client library: protocol client plus end-to-end encryption helpers. */
export * from './parley-client.js';
export * from './crypto.js';
export * from './identity-bundle.js';
export * from './sender-keys.js';
export * from './keys-room.js';
export * from './ratchet.js';
export * from './hpke.js';
export * from './room-call.js';
export * from './call-auth.js';
export * from './chat-timing.js';
export * from './chat-envelope.js';
export type {
  User,
  ErrorCode,
  ErrorReply,
  Notification,
  NotificationType,
  RoomMessage,
  HistoryPayload,
  HistoryReply,
  RedactedMessage,
  RedactedEvent,
  MessageAck,
  ReadReceipt,
  UserStatus,
  DirectMessage,
  DirectPayload,
  EndReason,
  RTCIceServerLike,
  CallPeer,
  RoomCallEvent,
  CallSignalPayload,
  ClientToServerEvents,
  ServerToClientEvents,
} from '../src/common/events.js';
