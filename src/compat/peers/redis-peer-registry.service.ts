import { Injectable } from '@nestjs/common';
import type { PeerConnectionInfo } from '../../common/events.js';
import { PeerRegistryService } from './peer-registry.service.js';
import { RedisService } from '../../redis/redis.service.js';

/**
 * The compatibility peer channel in Redis. Peer ids are unique across the cluster: the
 * check and the write are one Lua script. Listed in registration order.
 */
@Injectable()
export class RedisPeerRegistryService extends PeerRegistryService {
  constructor(private readonly redis: RedisService) {
    super();
  }

  async register(peer: PeerConnectionInfo): Promise<boolean> {
    const k = this.redis.keys;
    const info = toInfo(peer);
    const ok = await this.redis.script<number>(
      'parleyPeerRegister',
      [k.peers, k.peersBySocket, k.peersOwner, k.peersOrder, k.owners, k.seq],
      [info.peerId, info.socketId, JSON.stringify(info), this.redis.nodeId],
    );
    return ok === 1;
  }

  async unregister(socketId: string, owner?: string): Promise<PeerConnectionInfo | undefined> {
    return this.unregisterOwned(socketId, owner ?? '');
  }

  /** Removes the socket's peer when `node` owns it ('' for any owner). */
  async unregisterOwned(socketId: string, node: string): Promise<PeerConnectionInfo | undefined> {
    const k = this.redis.keys;
    const json = await this.redis.script<string | null>(
      'parleyPeerUnregister',
      [k.peers, k.peersBySocket, k.peersOwner, k.peersOrder],
      [socketId, node],
    );
    return json ? toInfo(JSON.parse(json) as PeerConnectionInfo) : undefined;
  }

  async byPeerId(peerId: string): Promise<PeerConnectionInfo | undefined> {
    const json = await this.redis.run((c) => c.hget(this.redis.keys.peers, peerId));
    return json ? toInfo(JSON.parse(json) as PeerConnectionInfo) : undefined;
  }

  async list(): Promise<PeerConnectionInfo[]> {
    const k = this.redis.keys;
    const rows = await this.redis.script<string[]>('parleyPeerList', [k.peers, k.peersOrder], []);
    return rows.map((json) => toInfo(JSON.parse(json) as PeerConnectionInfo));
  }
}

function toInfo(p: PeerConnectionInfo): PeerConnectionInfo {
  return { socketId: p.socketId, peerId: p.peerId, ...(typeof p.peerType === 'string' && { peerType: p.peerType }) };
}
