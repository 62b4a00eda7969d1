/**
 * The webhook events and their `data`, per the protocol's "Webhooks". Only ids, names, room
 * names, times and reasons: never a message body, signal, payload, public key or token.
 */
export interface WebhookUser {
  id: string;
  name: string;
  joinedAt: number;
}

export interface WebhookData {
  'room.occupied': { room: string };
  'room.vacated': { room: string };
  'user.joined': { room: string; user: WebhookUser };
  'user.left': { room: string; user: WebhookUser; reason: 'logout' | 'disconnect' | 'kicked' };
  'call.started': { callerId: string; calleeId: string };
  'call.ended': { callerId: string; calleeId: string; reason: 'hangup' | 'disconnected' | 'timeout' };
  'room.call.started': { room: string };
  'room.call.ended': { room: string };
}

export type WebhookType = keyof WebhookData;

/** What the receiver gets, as the JSON body of one POST. */
export interface WebhookEvent<T extends WebhookType = WebhookType> {
  id: string;
  type: T;
  at: number;
  data: WebhookData[T];
}
