import type { PeerConnectionInfo } from '../../common/events.js';

/**
 * The peer channel's registry (compatibility events): peer ids unique across the cluster,
 * each bound to one socket.
 */
export abstract class PeerRegistryService {
  /** Registers the peer; false when the peer id is already taken (by any socket). */
  abstract register(peer: PeerConnectionInfo): Promise<boolean>;
  /** Removes the socket's peer; resolves to it, or undefined when it had none. */
  /** With `owner`, only when that node still owns the entry (cleaning up after a node). */
  abstract unregister(socketId: string, owner?: string): Promise<PeerConnectionInfo | undefined>;
  abstract byPeerId(peerId: string): Promise<PeerConnectionInfo | undefined>;
  abstract list(): Promise<PeerConnectionInfo[]>;
}
