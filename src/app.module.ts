import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AdminModule } from './admin/admin.module.js';
import { AdminUiModule } from './admin-ui/admin-ui.module.js';
import { ChatModule } from './chat/chat.module.js';
import { CommonModule } from './common/common.module.js';
import { CompatModule } from './compat/compat.module.js';
import { COMPAT_STORES } from './compat/compat.stores.js';
import { StoreModule, type StoreBackend } from './common/stores/store.module.js';
import { configFactories } from './config/configuration.js';
import type { Env } from './config/env.schema.js';
import { HISTORY_STORES } from './history/history.stores.js';
import { DocsModule } from './docs/docs.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PresenceModule } from './presence/presence.module.js';
import { PRESENCE_STORES } from './presence/presence.stores.js';
import { RoomCallsModule } from './room-calls/room-calls.module.js';
import { ROOM_CALL_STORES } from './room-calls/room-calls.stores.js';
import { SecurityModule } from './security/security.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { SESSION_STORES } from './sessions/sessions.stores.js';
import { SignalingModule } from './signaling/signaling.module.js';
import { SIGNALING_STORES } from './signaling/signaling.stores.js';
import { USER_STORES } from './users/users.stores.js';
import { WebClientModule } from './web/web-client.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

/**
 * The root module and composition root: the one place that knows every feature. Built per
 * app instance from the validated environment, so optional features (web client,
 * compatibility events, Redis) are simply present or absent.
 */
@Module({})
export class AppModule {
  static register(env: Env): DynamicModule {
    const optional: Array<Type | DynamicModule> = [
      ...(env.COMPAT_EVENTS ? [CompatModule] : []),
      ...(env.WEB_CLIENT ? [WebClientModule.register(env.WEB_CLIENT_DIR)] : []),
      ...(env.WEBHOOK_URL ? [WebhooksModule] : []),
      ...(env.ADMIN_UI ? [AdminUiModule] : []),
    ];
    return {
      module: AppModule,
      imports: [
        // The environment was validated once by createApp; the namespaces read that copy.
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: configFactories(env) }),
        CommonModule,
        SessionsModule,
        StoreModule.register(storeBackend(env), [
          ...USER_STORES,
          ...SIGNALING_STORES,
          ...ROOM_CALL_STORES,
          ...PRESENCE_STORES,
          ...SESSION_STORES,
          ...COMPAT_STORES,
          ...HISTORY_STORES,
        ]),
        HealthModule,
        MetricsModule,
        AdminModule,
        DocsModule,
        ChatModule,
        SignalingModule,
        RoomCallsModule,
        PresenceModule,
        SecurityModule,
        ...optional,
      ],
    };
  }
}

function storeBackend(env: Env): StoreBackend {
  return env.REDIS_URL
    ? { kind: 'redis', redis: { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX } }
    : { kind: 'memory' };
}
