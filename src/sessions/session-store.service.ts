/**
 * Dropped connections held for the recovery window (RECOVERY_WINDOW_MS). Cluster-wide, so
 * a socket recovered on another node releases the hold its old node placed.
 *
 * Each hold carries a token of its own (one per drop): a window only ends the hold it
 * started. A socket dropped on node A, recovered on node B and dropped again there is held
 * by B's token, so A's window, ending first, finds a hold that is not its own and leaves it.
 */
export abstract class SessionStoreService {
  /** Marks the socket as held (disconnected, not yet departed) under `token`, replacing any earlier hold. */
  abstract hold(id: string, windowMs: number, token: string): Promise<void>;
  /**
   * Ends the hold, only when it is `token`'s (any hold when no token is given: a recovery
   * ends whichever drop it recovers from); resolves to true for the one caller that ended
   * it, false when there was no such hold (already released, recovered, held again by a
   * later drop, or never held).
   */
  abstract release(id: string, token?: string): Promise<boolean>;
  /**
   * A recovered socket now lives on this node: the data recorded for it (user, calls,
   * connection, peer, lobby entry) is re-owned by this node. A no-op on one node.
   */
  abstract adopt(id: string): Promise<void>;
}
