import { WsException } from '@nestjs/websockets';
import type { ErrorReply } from '../events.js';
import type { ErrorCode } from './error-codes.js';

/**
 * A refused request, with one of the codes of error-codes.ts (the one table of them). Carries the protocol's error code; the gateway exception filter turns
 * it into the `{ error, code }` ack (or the `exception` event when there is no ack).
 */
export class ParleyError extends WsException {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super({ error: message, code } satisfies ErrorReply);
    this.message = message;
  }

  toReply(): ErrorReply {
    return { error: this.message, code: this.code };
  }
}

export class ValidationError extends ParleyError {
  constructor(message: string) {
    super('VALIDATION', message);
  }
}
export class PayloadTooLargeError extends ParleyError {
  constructor(message: string) {
    super('PAYLOAD_TOO_LARGE', message);
  }
}
export class NotLoggedInError extends ParleyError {
  constructor(message = 'You must log in to a room first') {
    super('NOT_LOGGED_IN', message);
  }
}
export class AlreadyLoggedInError extends ParleyError {
  constructor(room: string) {
    super('ALREADY_LOGGED_IN', `This connection is already logged in to room "${room}"; log out first`);
  }
}
export class NameTakenError extends ParleyError {
  constructor(name: string, room: string) {
    super('NAME_TAKEN', `The name "${name}" is already taken in room "${room}"`);
  }
}
export class RoomFullError extends ParleyError {
  constructor(room: string, max: number) {
    super('ROOM_FULL', `Room "${room}" is full (${max} users)`);
  }
}
export class NotFoundError extends ParleyError {
  constructor(id: string) {
    super('NOT_FOUND', `No connected socket has the id "${id}"`);
  }
}
/** A `direct` recipient that is not a member of the sender's room (`index` is its item). */
export class NotAMemberError extends ParleyError {
  constructor(index: number, id: string, room: string) {
    super('NOT_FOUND', `items[${index}].to: "${id}" is not a member of room "${room}"`);
  }
}
export class NoCallError extends ParleyError {
  constructor(id: string) {
    super('NO_CALL', `There is no pending or active call with "${id}"`);
  }
}
export class AlreadyInCallError extends ParleyError {
  constructor(id: string) {
    super('ALREADY_IN_CALL', `There is already a pending or active call with "${id}"`);
  }
}
export class NotInRoomCallError extends ParleyError {
  constructor() {
    super('NO_CALL', "You are not in your room's call (joinCall first)");
  }
}
export class AlreadyInRoomCallError extends ParleyError {
  constructor() {
    super('ALREADY_IN_CALL', "You are already in your room's call");
  }
}
export class CallFullError extends ParleyError {
  constructor(max: number) {
    super('CALL_FULL', `The room's call already has ${max} participants (MAX_CALL_PEERS)`);
  }
}
export class NotACallPeerError extends ParleyError {
  constructor(id: string) {
    super('NOT_FOUND', `to: "${id}" is not another participant of your room's call`);
  }
}
export class NotRetainedError extends ParleyError {
  constructor(offset: number) {
    super('NOT_FOUND', `offset: message ${offset} is not retained in this room's current epoch`);
  }
}
export class ForbiddenError extends ParleyError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}
export class SelfCallError extends ParleyError {
  constructor() {
    super('SELF_CALL', 'You cannot call yourself');
  }
}
export class RateLimitedError extends ParleyError {
  constructor() {
    super('RATE_LIMITED', 'Too many events; slow down');
  }
}
export class UnauthorizedError extends ParleyError {
  constructor(message: string) {
    super('UNAUTHORIZED', message);
  }
}
export class UnavailableError extends ParleyError {
  constructor(message = 'A service this request needs is not answering; nothing changed, retry later') {
    super('UNAVAILABLE', message);
  }
}
