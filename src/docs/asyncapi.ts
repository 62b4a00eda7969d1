/**
 * The AsyncAPI 3.0 description of Parley's Socket.IO API (docs/PROTOCOL.md), written by
 * hand and served at GET /asyncapi.json. test/asyncapi.e2e-spec.ts holds it to the typed
 * event map (src/common/events.ts): an event on one side only fails the build.
 *
 * Seen from the server: it `receive`s the client-to-server events and `send`s the
 * server-to-client ones. An operation's `reply` is the event's acknowledgement: its success
 * shape, or `{ error, code }` with the codes that event can answer.
 */
import { ERROR_CODES } from '../common/errors/error-codes.js';
import type { ErrorCode } from '../common/events.js';

type Schema = Record<string, unknown>;
type Code = Exclude<ErrorCode, 'INTERNAL'>;

/** The codes of the error table a request may be refused with (INTERNAL is a fault, not an answer). */
const PROTOCOL_CODES = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c): c is Code => c !== 'INTERNAL');

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string, extra: Schema = {}): Schema => ({
  type: 'string',
  ...(description && { description }),
  ...extra,
});
const int = (description?: string, extra: Schema = {}): Schema => ({
  type: 'integer',
  ...(description && { description }),
  ...extra,
});
const opaque = (description: string): Schema => ({ description });
const obj = (
  properties: Record<string, Schema>,
  required: string[] = Object.keys(properties),
  extra: Schema = {},
): Schema => ({
  type: 'object',
  properties,
  required,
  ...extra,
});
const EMPTY = obj({}, [], { description: 'An empty object.' });
const AT = int('Server time, epoch milliseconds.');
const TO = str('The target socket id.');
const SOCKET_ID = str('A socket id.');

const schemas: Record<string, Schema> = {
  User: obj(
    {
      id: str('The socket id; server-assigned.'),
      name: str('1–32 characters.'),
      room: str('1–64 characters, case-sensitive.'),
      publicKey: str("The client's public key, opaque, at most 2048 characters."),
      joinedAt: AT,
      status: str('Absent while online.', { enum: ['away', 'busy'] }),
    },
    ['id', 'name', 'room', 'joinedAt'],
  ),
  RedactedMessage: obj({
    id: str(),
    room: str(),
    from: str(),
    fromId: SOCKET_ID,
    at: AT,
    offset: int(),
    epoch: str(),
    redacted: { type: 'boolean', const: true },
  }),
  ReadReceipt: obj({
    id: str('The member’s socket id.'),
    offset: int('Read up to this offset.'),
    epoch: str('Of this epoch.'),
    at: AT,
  }),
  CallPeer: obj({
    id: str('The socket id.'),
    name: str('Its login name.'),
    joinedAt: int('When it joined the call, epoch milliseconds.'),
  }),
  RoomMessage: obj({
    id: str('Server-assigned unique message id.'),
    room: str(),
    message: str('Client-encrypted ciphertext, opaque to the server.'),
    from: str("The sender's name."),
    fromId: str("The sender's socket id."),
    at: AT,
    offset: int("The message's place in the room within its epoch (from 1)."),
    epoch: str("The room's epoch; offsets compare only within one."),
  }),
  ErrorReply: obj({ error: str('A human sentence naming the offending field or state.'), code: ref('ErrorCode') }),
  ErrorCode: str('See docs/PROTOCOL.md, "Conventions".', {
    enum: PROTOCOL_CODES,
  }),
  RTCIceServer: obj(
    {
      urls: { oneOf: [str(), { type: 'array', items: str() }] },
      username: str(),
      credential: str(),
    },
    ['urls'],
  ),
  PeerConnection: obj({ socketId: SOCKET_ID, peerId: str(), peerType: str() }, ['socketId', 'peerId']),
};

interface ClientEvent {
  summary: string;
  payload?: Schema;
  /** The ack's success shape; absent for an event that takes no ack. */
  ack?: Schema;
  errors: Code[];
}

const ROOM_MESSAGE_IN: Schema = {
  oneOf: [
    obj({ message: str('Ciphertext, 1 byte to MAX_MESSAGE_BYTES (UTF-8).') }),
    str('The ciphertext itself (older clients).'),
  ],
};
const SENT: Schema = obj({ id: str(), at: AT, offset: int(), epoch: str() });

/** Client → server. */
const clientEvents: Record<string, ClientEvent> = {
  login: {
    summary: 'Join a room under a name.',
    payload: obj(
      {
        name: str('Trimmed, 1–32 characters, no control characters.'),
        room: str('Trimmed, 1–64 characters, no control characters.'),
        publicKey: str('At most 2048 characters.'),
      },
      ['name', 'room'],
    ),
    ack: obj({ user: ref('User') }),
    errors: [
      'VALIDATION',
      'ALREADY_LOGGED_IN',
      'NAME_TAKEN',
      'ROOM_FULL',
      'UNAUTHORIZED',
      'RATE_LIMITED',
      'UNAVAILABLE',
    ],
  },
  logout: {
    summary: 'Leave the room; the socket stays connected.',
    ack: EMPTY,
    errors: ['NOT_LOGGED_IN', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  roomMessage: {
    summary: 'Send ciphertext to every member of the room, the sender included.',
    payload: ROOM_MESSAGE_IN,
    ack: SENT,
    errors: ['NOT_LOGGED_IN', 'VALIDATION', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  history: {
    summary: "The room's retained messages after an offset.",
    payload: obj(
      {
        since: int('Offset of the last message the client has; needs epoch.', { minimum: 0 }),
        epoch: str(),
        limit: int(undefined, { minimum: 1, maximum: 1000 }),
      },
      [],
    ),
    ack: obj({
      messages: {
        type: 'array',
        items: { oneOf: [ref('RoomMessage'), ref('RedactedMessage')] },
        description: 'Oldest first; a redacted message is its tombstone.',
      },
      offset: int(),
      epoch: str(),
      complete: { type: 'boolean' },
    }),
    errors: ['NOT_LOGGED_IN', 'VALIDATION', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  redact: {
    summary: 'Remove the text of one retained message you sent; every member gets redacted.',
    payload: obj({ offset: int('1 or more.'), epoch: str("The room's current epoch.") }),
    ack: EMPTY,
    errors: ['NOT_LOGGED_IN', 'VALIDATION', 'NOT_FOUND', 'FORBIDDEN', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  direct: {
    summary: 'A separate opaque payload for each of some members of the room.',
    payload: obj({
      items: {
        type: 'array',
        minItems: 1,
        items: obj({ to: TO, payload: opaque('Opaque; at most MAX_SIGNAL_BYTES as JSON.') }),
      },
    }),
    ack: obj({ at: AT }),
    errors: ['NOT_LOGGED_IN', 'VALIDATION', 'PAYLOAD_TOO_LARGE', 'NOT_FOUND', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  listUsers: {
    summary: "The users of the caller's room.",
    ack: obj({ users: { type: 'array', items: ref('User') } }),
    errors: ['NOT_LOGGED_IN', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  ping: {
    summary: 'Round trip; the ack is the socket id as a bare string.',
    ack: str('The socket id.'),
    errors: ['RATE_LIMITED'],
  },
  call: {
    summary: 'Ring another socket.',
    payload: obj(
      {
        userToCall: TO,
        to: str('Alias of userToCall.'),
        signal: opaque('Opaque offer; at most MAX_SIGNAL_BYTES as JSON.'),
        name: str('1–32 characters.'),
      },
      [],
    ),
    ack: EMPTY,
    errors: [
      'VALIDATION',
      'NOT_FOUND',
      'SELF_CALL',
      'ALREADY_IN_CALL',
      'PAYLOAD_TOO_LARGE',
      'RATE_LIMITED',
      'UNAVAILABLE',
    ],
  },
  answer: {
    summary: 'Answer a pending or active call (exactly one of signal and sdp).',
    payload: { oneOf: [obj({ to: TO, signal: opaque('Opaque.') }), obj({ to: TO, sdp: opaque('Opaque SDP.') })] },
    ack: EMPTY,
    errors: ['VALIDATION', 'NO_CALL', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  offer: {
    summary: "Relay an SDP offer to the call's peer.",
    payload: obj({ to: TO, sdp: opaque('Opaque SDP.') }),
    ack: EMPTY,
    errors: ['VALIDATION', 'NOT_FOUND', 'NO_CALL', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  candidate: {
    summary: "Relay an ICE candidate to the call's peer.",
    payload: obj({ to: TO, candidate: opaque('Opaque.') }),
    ack: EMPTY,
    errors: ['VALIDATION', 'NOT_FOUND', 'NO_CALL', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  signal: {
    summary: "Relay a signal (simple-peer style) to the call's peer.",
    payload: obj({ to: TO, signal: opaque('Opaque.') }),
    ack: EMPTY,
    errors: ['VALIDATION', 'NOT_FOUND', 'NO_CALL', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  hangup: {
    summary: 'End or decline a call.',
    payload: obj({ to: TO }),
    ack: EMPTY,
    errors: ['VALIDATION', 'NO_CALL', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  iceServers: {
    summary: 'STUN/TURN servers, with time-limited TURN credentials.',
    ack: obj({ iceServers: { type: 'array', items: ref('RTCIceServer') } }),
    errors: ['RATE_LIMITED'],
  },
  setStatus: {
    summary: 'Set your presence: online, away or busy; every member gets presence when it changes.',
    payload: obj({ status: str(undefined, { enum: ['online', 'away', 'busy'] }) }),
    ack: EMPTY,
    errors: ['NOT_LOGGED_IN', 'VALIDATION', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  typing: {
    summary: 'You started (true) or stopped (false) typing; the other members get typing. Never stored.',
    payload: obj({ active: { type: 'boolean' } }),
    ack: EMPTY,
    errors: ['NOT_LOGGED_IN', 'VALIDATION', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  read: {
    summary: 'You have read your room up to offset of epoch; forward only; every member gets read when it moves.',
    payload: obj({
      offset: int('An offset of the current epoch, 1 or more.'),
      epoch: str("The room's current epoch."),
    }),
    ack: obj({ offset: int('Your position after the request.') }),
    errors: ['NOT_LOGGED_IN', 'VALIDATION', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  receipts: {
    summary: "The read positions of your room's members in the current epoch, in users order.",
    ack: obj({ receipts: { type: 'array', items: ref('ReadReceipt') } }),
    errors: ['NOT_LOGGED_IN', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  joinCall: {
    summary:
      "Join the room's call (a mesh of up to MAX_CALL_PEERS); every member gets roomCall, the ack lists who was there.",
    ack: obj({ peers: { type: 'array', items: ref('CallPeer') } }),
    errors: ['NOT_LOGGED_IN', 'ALREADY_IN_CALL', 'CALL_FULL', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  leaveCall: {
    summary: "Leave the room's call; every member gets roomCall with who remains.",
    ack: EMPTY,
    errors: ['NOT_LOGGED_IN', 'NO_CALL', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  callSignal: {
    summary: "Relay an opaque signal (a description or an ICE candidate) to another participant of the room's call.",
    payload: obj({ to: TO, data: opaque('Opaque, at most MAX_SIGNAL_BYTES as JSON.') }),
    ack: EMPTY,
    errors: ['VALIDATION', 'NOT_LOGGED_IN', 'NO_CALL', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  'send-message': {
    summary: 'Compatibility: roomMessage for older chat clients; members receive new-message.',
    payload: obj({ message: str('Ciphertext.') }),
    ack: SENT,
    errors: ['NOT_LOGGED_IN', 'VALIDATION', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  register: {
    summary: 'Compatibility: enter the lobby under a name (1–32 characters).',
    payload: str('The lobby name.'),
    ack: EMPTY,
    errors: ['VALIDATION', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  getOnlineUsers: {
    summary: 'Compatibility: the lobby, answered with the onlineUsers event.',
    ack: EMPTY,
    errors: ['RATE_LIMITED', 'UNAVAILABLE'],
  },
  ready: {
    summary: 'Compatibility: register a peer id for the peer channel. Arguments (peerId, peerType?); no ack.',
    payload: { type: 'array', items: [str('Peer id, 1–64 characters.'), str('Peer type.')], minItems: 1, maxItems: 2 },
    errors: ['VALIDATION', 'RATE_LIMITED', 'UNAVAILABLE'],
  },
  message: {
    summary: 'Compatibility: relay a JSON object to every other socket.',
    payload: { type: 'object' },
    ack: EMPTY,
    errors: ['VALIDATION', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED'],
  },
  messageOne: {
    summary: 'Compatibility: relay a JSON object to one registered peer.',
    payload: obj({ target: str('A peer id.') }, ['target']),
    ack: EMPTY,
    errors: ['VALIDATION', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED'],
  },
};

const presenceNote = (type: 'join' | 'leave') =>
  obj({ type: str(undefined, { const: type }), title: str(), description: str(), user: ref('User'), at: AT });

/** Server → client. */
const serverEvents: Record<string, { summary: string; payload: Schema }> = {
  me: { summary: 'On connect: the socket id.', payload: SOCKET_ID },
  notification: {
    summary: "A toast: someone joined or left, or an announcement from the application's backend.",
    payload: {
      oneOf: [
        presenceNote('join'),
        presenceNote('leave'),
        obj({ type: str(undefined, { const: 'server' }), title: str(), description: str(), at: AT }),
      ],
    },
  },
  users: { summary: "The room's users, oldest joinedAt first.", payload: { type: 'array', items: ref('User') } },
  roomMessage: { summary: 'A room message.', payload: ref('RoomMessage') },
  direct: {
    summary: 'A payload sent to this socket alone.',
    payload: obj({ from: str(), fromId: SOCKET_ID, room: str(), payload: opaque('Opaque.'), at: AT }),
  },
  kicked: {
    summary: "The application's backend removed this socket from its room; it is logged out and stays connected.",
    payload: obj({ room: str(), reason: str('1–200 characters.') }),
  },
  redacted: {
    summary: "A retained message of the room lost its text (by: the member's socket id, or 'server').",
    payload: obj({ room: str(), offset: int(), epoch: str(), id: str('The message id.'), by: str(), at: AT }),
  },
  presence: {
    summary: "A member's status changed.",
    payload: obj({ id: SOCKET_ID, status: str(undefined, { enum: ['online', 'away', 'busy'] }), at: AT }),
  },
  typing: {
    summary: 'Another member started or stopped typing.',
    payload: obj({ id: SOCKET_ID, active: { type: 'boolean' } }),
  },
  read: { summary: "A member's read position moved forward.", payload: ref('ReadReceipt') },
  roomCall: {
    summary: "Who is in the room's call, oldest first (peers: [] when it is over).",
    payload: obj({ room: str(), peers: { type: 'array', items: ref('CallPeer') } }),
  },
  callSignal: {
    summary: 'A signal from another participant of the room call.',
    payload: obj({ from: SOCKET_ID, data: opaque('Opaque.') }),
  },
  call: {
    summary: 'An incoming call.',
    payload: obj({ from: SOCKET_ID, name: str(), signal: opaque('Opaque.') }, ['from']),
  },
  accepted: { summary: 'The peer answered with a signal: the signal value itself.', payload: opaque('Opaque.') },
  answer: {
    summary: 'The peer answered with an SDP.',
    payload: obj({ sdp: opaque('Opaque.'), socketId: SOCKET_ID, from: SOCKET_ID }),
  },
  offer: {
    summary: 'A relayed SDP offer.',
    payload: obj({ sdp: opaque('Opaque.'), socketId: SOCKET_ID, from: SOCKET_ID }),
  },
  candidate: { summary: 'A relayed ICE candidate.', payload: obj({ candidate: opaque('Opaque.'), from: SOCKET_ID }) },
  signal: { summary: 'A relayed signal.', payload: obj({ signal: opaque('Opaque.'), from: SOCKET_ID }) },
  ended: {
    summary: 'The call is over.',
    payload: obj({ from: SOCKET_ID, reason: str(undefined, { enum: ['hangup', 'disconnected', 'timeout'] }) }),
  },
  exception: {
    summary: 'A refused request that had no ack callback.',
    payload: obj({ event: str(), error: str(), code: ref('ErrorCode') }),
  },
  'user-connected': {
    summary: 'Compatibility: someone joined the room.',
    payload: obj({ message: str(), user: ref('User') }),
  },
  'user-disconnected': {
    summary: 'Compatibility: someone left the room.',
    payload: obj({ message: str(), user: ref('User') }),
  },
  'new-message': {
    summary: 'Compatibility: a room message for older chat clients.',
    payload: obj({ msg: str(), from: str(), fromId: SOCKET_ID, id: str(), at: AT }),
  },
  userConnected: {
    summary: 'Compatibility: a socket entered the lobby.',
    payload: obj({ id: SOCKET_ID, name: str() }),
  },
  userDisconnected: { summary: 'Compatibility: a lobby socket disconnected (its id).', payload: SOCKET_ID },
  onlineUsers: {
    summary: 'Compatibility: the lobby, socket id → name.',
    payload: { type: 'object', additionalProperties: str() },
  },
  message: { summary: 'Compatibility: a peer-channel message (open, close, or relayed).', payload: { type: 'object' } },
  uniquenessError: {
    summary: 'Compatibility: the peer id is taken; the socket is disconnected.',
    payload: obj({ message: str(), error: str() }),
  },
};

const key = (event: string) => event.replace(/[^A-Za-z0-9]/g, '_');

export function asyncApiDocument(): Record<string, unknown> {
  const messages: Record<string, unknown> = {};
  const inbound: Record<string, unknown> = {};
  const outbound: Record<string, unknown> = {};
  const acks: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};

  for (const [event, e] of Object.entries(clientEvents)) {
    const id = `client_${key(event)}`;
    messages[id] = {
      name: event,
      title: event,
      summary: e.summary,
      ...(e.payload && { payload: e.payload }),
      'x-parley-errors': e.errors,
    };
    inbound[id] = { $ref: `#/components/messages/${id}` };
    const op: Record<string, unknown> = {
      action: 'receive',
      channel: { $ref: '#/channels/client' },
      summary: e.summary,
      messages: [{ $ref: `#/channels/client/messages/${id}` }],
      'x-parley-errors': e.errors,
    };
    if (e.ack) {
      const ackId = `ack_${key(event)}`;
      messages[ackId] = {
        name: `${event} ack`,
        summary: `The acknowledgement of ${event}: its result, or { error, code } with one of ${e.errors.join(', ')}.`,
        payload: { oneOf: [e.ack, { allOf: [ref('ErrorReply'), obj({ code: str(undefined, { enum: e.errors }) })] }] },
      };
      acks[ackId] = { $ref: `#/components/messages/${ackId}` };
      op.reply = { channel: { $ref: '#/channels/acks' }, messages: [{ $ref: `#/channels/acks/messages/${ackId}` }] };
    }
    operations[`receive_${key(event)}`] = op;
  }
  for (const [event, e] of Object.entries(serverEvents)) {
    const id = `server_${key(event)}`;
    messages[id] = { name: event, title: event, summary: e.summary, payload: e.payload };
    outbound[id] = { $ref: `#/components/messages/${id}` };
    operations[`send_${key(event)}`] = {
      action: 'send',
      channel: { $ref: '#/channels/server' },
      summary: e.summary,
      messages: [{ $ref: `#/channels/server/messages/${id}` }],
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Parley Socket.IO API',
      version: '1.1.0',
      description:
        'Room-based end-to-end-encrypted chat and 1:1 call signaling over Socket.IO v4 (namespace /, path /socket.io). ' +
        "Each Socket.IO event is a message whose name is the event name; an operation's reply is the event's acknowledgement. " +
        'The full contract, with ordering and limits, is docs/PROTOCOL.md.',
      license: { name: 'MIT' },
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: 'localhost:3001',
        pathname: '/socket.io',
        protocol: 'ws',
        description: 'Socket.IO (websocket or polling).',
      },
    },
    channels: {
      client: {
        address: '/',
        title: 'Client to server',
        description: 'Events a client emits on the default namespace.',
        messages: inbound,
      },
      server: {
        address: '/',
        title: 'Server to client',
        description: 'Events the server emits to a client.',
        messages: outbound,
      },
      acks: {
        address: null,
        title: 'Acknowledgements',
        description: "The value a client's ack callback receives.",
        messages: acks,
      },
    },
    operations,
    components: { schemas, messages },
  };
}
