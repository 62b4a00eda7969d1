/**
 * Dropped connections held for the recovery window (RECOVERY_WINDOW_MS). Cluster-wide, so
 * a socket recovered on another node releases the hold its old node placed.
 */
export abstract class SessionStoreService {
  /** Marks the socket as held (disconnected, not yet departed). */
  abstract hold(id: string, windowMs: number): Promise<void>;
  /**
   * Ends the hold; resolves to true for the one caller that ended it, false when it was not
   * held (already released, recovered, or never held).
   */
  abstract release(id: string): Promise<boolean>;
  /**
   * A recovered socket now lives on this node: the data recorded for it (user, calls,
   * connection, peer, lobby entry) is re-owned by this node. A no-op on one node.
   */
  abstract adopt(id: string): Promise<void>;
}
