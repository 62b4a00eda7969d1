import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { instrument } from '@socket.io/admin-ui';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { RealtimeService } from '../common/realtime/realtime.service.js';
import { adminUiConfig, type AdminUiConfig } from '../config/configuration.js';

/** The Socket.IO namespace the hosted admin UI (admin.socket.io) connects to. */
export const ADMIN_UI_NAMESPACE = '/admin';
/** The origin the hosted UI is served from; allowed by CORS only while ADMIN_UI is on. */
export const ADMIN_UI_ORIGIN = 'https://admin.socket.io';

/**
 * The Socket.IO admin UI's server side, on the /admin namespace, behind basic auth checked
 * against a bcrypt hash. Always in the library's "production" mode: its development mode
 * forwards every event's arguments (ciphertext, call signals) to the dashboard, which
 * Parley never does. Read-only unless ADMIN_UI_READONLY=false. With the Redis adapter the
 * dashboard sees every node, through the adapter's serverSideEmit.
 */
@Injectable()
export class AdminUiService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminUiService.name);

  constructor(
    private readonly realtime: RealtimeService,
    @Inject(adminUiConfig.KEY) private readonly config: AdminUiConfig,
  ) {}

  onApplicationBootstrap(): void {
    instrument(this.realtime.server as never, {
      namespaceName: ADMIN_UI_NAMESPACE,
      auth: { type: 'basic', username: this.config.username!, password: this.config.passwordHash! },
      readonly: this.config.readonly,
      mode: 'production',
      // One entry per node in the dashboard, even for several nodes on one host.
      serverId: `${hostname()}#${process.pid}#${randomBytes(3).toString('hex')}`,
    });
    this.logger.log({ event: 'admin-ui', namespace: ADMIN_UI_NAMESPACE, readonly: this.config.readonly });
  }
}
