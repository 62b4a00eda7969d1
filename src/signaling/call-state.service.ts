import type { PublishCondition } from '../common/realtime/publish-condition.js';

export type CallStatus = 'pending' | 'active';

/**
 * The state of 1:1 calls between socket pairs: pending from `call` until `answer`, active
 * after, gone after hangup, disconnect or ring timeout. Pairs are unordered: A→B and B→A
 * are the same call. Asynchronous and transport-free so a Redis backend can replace it.
 * A pending call that rings out is removed and announced once, cluster-wide, as the domain
 * event `call.ringTimeout`.
 */
export abstract class CallStateService {
  /** Starts a pending call and its ring timer; throws AlreadyInCallError if the pair has one. */
  abstract start(callerId: string, calleeId: string, ringTimeoutMs: number): Promise<void>;
  /** Marks the pair's call active and stops its ring timer; false when there is none. */
  abstract accept(a: string, b: string): Promise<boolean>;
  /**
   * The pair's call, if any. A backend that knows without I/O answers synchronously (the
   * in-memory one does), so a signal between two peers on one node is relayed in the same
   * tick it arrived.
   */
  abstract status(a: string, b: string): CallStatus | undefined | Promise<CallStatus | undefined>;
  /**
   * For a backend kept where the cluster's broadcasts are published (Redis): the check "`to`
   * is connected and the pair has a call", for the adapter to make in the same command as
   * the publish of a signal from `from` to `to` on another node. Undefined: the relay
   * checks by itself first.
   */
  relayCondition?(from: string, to: string): PublishCondition | undefined;
  /** Ends the pair's call; false when there was none. */
  abstract end(a: string, b: string): Promise<boolean>;
  /** Ends every call of this socket; resolves to the peers it had. */
  abstract endAll(id: string): Promise<string[]>;
}

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
