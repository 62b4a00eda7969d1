import { Injectable } from '@nestjs/common';
import type { User } from '../common/events.js';

/** Why a user left its room: its own logout, its connection ending, or a kick over HTTP. */
export type LeaveReason = 'logout' | 'disconnect' | 'kicked';

export interface PresenceListener {
  joined?(user: User): void;
  left?(user: User, reason: LeaveReason): void;
}

/**
 * Room join and leave hooks, so optional modules (the compatibility events) can add
 * their own notifications without the core knowing about them.
 */
@Injectable()
export class PresenceEvents {
  private readonly listeners: PresenceListener[] = [];

  subscribe(listener: PresenceListener): void {
    this.listeners.push(listener);
  }

  joined(user: User): void {
    for (const l of this.listeners) l.joined?.(user);
  }

  left(user: User, reason: LeaveReason): void {
    for (const l of this.listeners) l.left?.(user, reason);
  }
}
