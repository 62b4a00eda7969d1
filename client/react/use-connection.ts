/** The socket's state, for a status badge. */
import { useEffect, useState } from 'react';
import type { ParleyClient } from '../index.js';

export interface ConnectionState {
  state: 'connecting' | 'connected' | 'disconnected';
  /**
   * Why the last attempt failed (`connect_error`'s message: `UNAUTHORIZED` when the server
   * wants a token); absent while just reconnecting after a drop.
   */
  error?: string;
}

export function useConnection(client: Pick<ParleyClient, 'socket'>): ConnectionState {
  const [state, setState] = useState<ConnectionState>(() => ({
    state: client.socket.connected ? 'connected' : 'connecting',
  }));
  useEffect(() => {
    const socket = client.socket;
    const onConnect = () => setState({ state: 'connected' });
    const onDisconnect = () => setState({ state: 'disconnected' });
    const onError = (err: Error) => setState({ state: 'disconnected', error: err.message });
    // It may have connected before this effect ran.
    if (socket.connected) onConnect();
    socket.on('connect', onConnect);
    socket.on('disconnect', onDisconnect);
    socket.on('connect_error', onError);
    return () => {
      socket.off('connect', onConnect);
      socket.off('disconnect', onDisconnect);
      socket.off('connect_error', onError);
    };
  }, [client]);
  return state;
}
