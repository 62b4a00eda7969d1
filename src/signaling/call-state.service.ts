export type CallStatus = 'pending' | 'active';

export type RingTimeoutListener = (callerId: string, calleeId: string) => void;

export type CallEndReason = 'hangup' | 'disconnected' | 'timeout';

/** A call's life: answered (pending → active, once), and ended, answered or not. */
export interface CallLifecycleListener {
  started?(callerId: string, calleeId: string): void;
  ended?(callerId: string, calleeId: string, reason: CallEndReason): void;
}

/**
 * The state of 1:1 calls between socket pairs: pending from `call` until `answer`, active
 * after, gone after hangup, disconnect or ring timeout. Pairs are unordered: A→B and B→A
 * are the same call. Asynchronous and transport-free so a Redis backend can replace it.
 */
export abstract class CallStateService {
  private readonly lifecycle: CallLifecycleListener[] = [];

  /**
   * Called on the node that made the change: `end` is a hangup, `endAll` a disconnect, a
   * ring-out a timeout. Each call starts and ends once, however many nodes race on it.
   */
  onLifecycle(listener: CallLifecycleListener): void {
    this.lifecycle.push(listener);
  }

  protected callStarted(callerId: string, calleeId: string): void {
    for (const l of this.lifecycle) l.started?.(callerId, calleeId);
  }

  protected callEnded(callerId: string, calleeId: string, reason: CallEndReason): void {
    for (const l of this.lifecycle) l.ended?.(callerId, calleeId, reason);
  }

  /** Starts a pending call and its ring timer; throws AlreadyInCallError if the pair has one. */
  abstract start(callerId: string, calleeId: string, ringTimeoutMs: number): Promise<void>;
  /** Marks the pair's call active and stops its ring timer; false when there is none. */
  abstract accept(a: string, b: string): Promise<boolean>;
  abstract status(a: string, b: string): Promise<CallStatus | undefined>;
  /** Ends the pair's call; false when there was none. */
  abstract end(a: string, b: string): Promise<boolean>;
  /** Ends every call of this socket; resolves to the peers it had. */
  abstract endAll(id: string): Promise<string[]>;
  /** Called once per pending call that rang out (its state already removed). */
  abstract onRingTimeout(listener: RingTimeoutListener): void;
}

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
