import { Inject, Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import type { RTCIceServerLike } from '../common/events.js';
import { iceConfig, type IceConfig } from '../config/configuration.js';

/**
 * ICE servers for clients: the static list, plus a TURN entry with time-limited
 * credentials in coturn's shared-secret scheme (username "<expiry>:<id>", credential
 * base64(HMAC-SHA1(secret, username))).
 */
@Injectable()
export class IceService {
  constructor(@Inject(iceConfig.KEY) private readonly ice: IceConfig) {}

  serversFor(socketId: string, now = Date.now()): RTCIceServerLike[] {
    const servers: RTCIceServerLike[] = [...this.ice.iceServers];
    if (this.ice.turnSecret && this.ice.turnUrls?.length) {
      const username = `${Math.floor(now / 1000) + this.ice.turnTtlS}:${socketId}`;
      const credential = createHmac('sha1', this.ice.turnSecret).update(username).digest('base64');
      servers.push({ urls: this.ice.turnUrls, username, credential });
    }
    return servers;
  }
}
