/** Subscribes a component to one server event for as long as it is mounted. */
import { useEffect, useRef } from 'react';
import type { Listener, ParleyClient, ServerEvent } from '../index.js';

/**
 * `handler` may change on every render (it usually closes over props and state): the
 * subscription stays put and calls the latest one.
 */
export function useParleyEvent<E extends ServerEvent>(
  client: Pick<ParleyClient, 'on'>,
  event: E,
  handler: Listener<E>,
): void {
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    const listener = ((...args: Parameters<Listener<E>>) =>
      (latest.current as (...a: Parameters<Listener<E>>) => void)(...args)) as Listener<E>;
    return client.on(event, listener);
  }, [client, event]);
}
