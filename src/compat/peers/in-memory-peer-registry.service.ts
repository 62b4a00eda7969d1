import { Injectable } from '@nestjs/common';
import type { PeerConnectionInfo } from '../../common/events.js';
import { PeerRegistryService } from './peer-registry.service.js';

@Injectable()
export class InMemoryPeerRegistryService extends PeerRegistryService {
  private readonly byPeer = new Map<string, PeerConnectionInfo>();
  private readonly bySocket = new Map<string, PeerConnectionInfo>();

  async register(peer: PeerConnectionInfo): Promise<boolean> {
    if (this.byPeer.has(peer.peerId) || this.bySocket.has(peer.socketId)) return false;
    this.byPeer.set(peer.peerId, peer);
    this.bySocket.set(peer.socketId, peer);
    return true;
  }

  async unregister(socketId: string): Promise<PeerConnectionInfo | undefined> {
    const peer = this.bySocket.get(socketId);
    if (!peer) return undefined;
    this.bySocket.delete(socketId);
    this.byPeer.delete(peer.peerId);
    return peer;
  }

  async byPeerId(peerId: string): Promise<PeerConnectionInfo | undefined> {
    return this.byPeer.get(peerId);
  }

  async list(): Promise<PeerConnectionInfo[]> {
    return [...this.byPeer.values()];
  }
}
