/**
 * Work a cluster adapter does in the same Redis call that publishes a broadcast: the checks
 * before a signal to a socket on another node, or a room message's history append. One
 * command instead of one per step, and nothing can change in between. The backend that owns
 * the state names the keys (RedisCallStateService.relayCondition,
 * RedisHistoryStoreService.placeCondition); the adapter that publishes settles `outcome`.
 * Transport-free: the in-memory adapter never takes one.
 */
export interface PublishCondition {
  /**
   * relay: publish only if the target is connected and the pair has a call;
   * place: a room message takes its offset (and its place in the room's history) in the
   * same command that publishes it.
   */
  kind: 'relay' | 'place';
  /** relay: the target's connection entry, then the pair's call entry; place: the room's history keys. */
  keys: string[];
  /** place: the history append's arguments (see the script). */
  args?: Array<string | number>;
  /**
   * place: called with the script's reply as soon as it arrives, before the broadcast is
   * delivered to this node's sockets (so what they receive carries the offset).
   */
  onReply?: (reply: unknown) => void;
  /** Set by the adapter that took the condition: resolves once published, rejects with PublishRefusal or the failure. */
  outcome?: Promise<void>;
}

/** Marks a Socket.IO adapter whose broadcasts take conditions (see takesConditions). */
export const TAKES_CONDITIONS = Symbol('parley.takesConditions');

/** Whether the adapter publishes with conditions (the Redis one does). */
export function takesConditions(adapter: unknown): boolean {
  return typeof adapter === 'object' && adapter !== null && TAKES_CONDITIONS in adapter;
}

/** The condition did not hold: nothing was published. `code` is the protocol code it stands for. */
export class PublishRefusal extends Error {
  constructor(readonly code: string) {
    super(`publish refused: ${code}`);
    this.name = 'PublishRefusal';
  }
}

let next: PublishCondition | undefined;

/**
 * Runs `emit` (which must start exactly one broadcast, synchronously) with `condition`
 * attached to that broadcast. False when no adapter took it (no cluster adapter): the
 * caller then checks by itself, and `emit` must not have sent anything yet — so callers
 * only use this where a cluster adapter is configured.
 */
export function emitWithCondition(condition: PublishCondition, emit: () => void): boolean {
  next = condition;
  try {
    emit();
  } finally {
    next = undefined;
  }
  return condition.outcome !== undefined;
}

/** For the adapter's broadcast: the condition its publish must check, once. */
export function takePublishCondition(): PublishCondition | undefined {
  const condition = next;
  next = undefined;
  return condition;
}
