/**
 * socket.io-client 4.0.x (installed as the alias `socket.io-client-40`) ships its types
 * outside its package "exports", so NodeNext resolution cannot see them. Its `io()` has the
 * same shape as the current client's.
 */
declare module 'socket.io-client-40' {
  import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client';

  export function io(uri: string, opts?: Partial<ManagerOptions & SocketOptions>): Socket;
}
