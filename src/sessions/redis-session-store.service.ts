import { Injectable, Logger } from '@nestjs/common';
import { SessionStoreService } from './session-store.service.js';
import { RedisService } from '../redis/redis.service.js';

/**
 * Held connections (RECOVERY_WINDOW_MS) across the cluster: `held:<id>` holds the token of
 * the drop that placed it, with a TTL a bit longer than the window. `release` is a
 * compare-and-delete (a script), so exactly one caller ends a hold: the node that
 * recovered the session (on any node, any token) or the timer of the drop that placed it,
 * never both, and never the timer of an earlier drop. `adopt` moves the socket's
 * connection, user, lobby and peer entries to this node (its calls stay with the node that
 * started them, whose ring timers they are; a dead node's calls are adopted by its
 * sweeper).
 *
 * Never rejects: the session service runs from disconnect handlers and timers. While Redis
 * is down a hold is kept in memory, so its release still departs the socket.
 */
@Injectable()
export class RedisSessionStoreService extends SessionStoreService {
  private readonly logger = new Logger('RedisSessionStore');
  /** Holds Redis could not take: socket id → token. */
  private readonly heldLocally = new Map<string, string>();

  constructor(private readonly redis: RedisService) {
    super();
  }

  async hold(id: string, windowMs: number, token: string): Promise<void> {
    this.heldLocally.delete(id);
    try {
      await this.redis.run((c) => c.set(this.redis.keys.held(id), token, 'PX', windowMs + 5_000));
    } catch (err) {
      this.heldLocally.set(id, token);
      this.logger.warn({ event: 'hold-failed', socketId: id, err: String(err) });
    }
  }

  async release(id: string, token?: string): Promise<boolean> {
    const local = this.heldLocally.get(id);
    if (local !== undefined && (token === undefined || token === local)) {
      this.heldLocally.delete(id);
      return true;
    }
    try {
      const ended = await this.redis.script<number>('parleyHeldRelease', [this.redis.keys.held(id)], [token ?? '']);
      return ended === 1;
    } catch (err) {
      // Unknown: depart (the departure is idempotent; a stale entry is reconciled later).
      this.logger.warn({ event: 'release-failed', socketId: id, err: String(err) });
      return true;
    }
  }

  async adopt(id: string): Promise<void> {
    this.heldLocally.delete(id);
    try {
      const k = this.redis.keys;
      await this.redis.script('parleyConnAdd', [k.conn(id), k.owners], [id, this.redis.nodeId]);
    } catch (err) {
      this.logger.warn({ event: 'adopt-failed', socketId: id, err: String(err) });
    }
  }
}
