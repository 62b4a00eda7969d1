/**
 * React bindings for Parley's client library: hooks that hold a ParleyClient's session,
 * room, and calls as component state. The reference web page (web/) is built on them.
 * Everything framework-specific lives here; the rest of client/ stays framework-free.
 */
export * from './parley-context.js';
export * from './use-parley-event.js';
export * from './use-connection.js';
export * from './use-parley.js';
export * from './use-room.js';
export * from './use-fingerprints.js';
export * from './use-call.js';
export * from './use-room-call.js';
export * from './call-controller.js';
export * from './keys-session.js';
export * from './timeline.js';
export * from './room-mode.js';
export * from './identity-store.js';
export * from './trust-store.js';
export * from './ratchet-store.js';
