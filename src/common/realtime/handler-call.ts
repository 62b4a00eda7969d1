import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * One call of an event handler, as seen by a cluster adapter: the broadcasts it started
 * (still on their way through the shared bus), whether one of them could not be published,
 * and whether the call was already answered with an error. Lets the reply say UNAVAILABLE
 * when what the request had to deliver never left this node.
 */
export interface HandlerCall {
  pending: Set<Promise<unknown>>;
  /** A broadcast of this call could not be published: nobody received it. */
  failed: boolean;
  /** The exception filter already answered this call with an error. */
  refused: boolean;
}

export const handlerCalls = new AsyncLocalStorage<HandlerCall>();

export function newHandlerCall(): HandlerCall {
  return { pending: new Set(), failed: false, refused: false };
}
