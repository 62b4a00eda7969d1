import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AdminModule } from './admin/admin.module.js';
import { AdminUiModule } from './admin-ui/admin-ui.module.js';
import { ChatModule } from './chat/chat.module.js';
import { CommonModule } from './common/common.module.js';
import { CompatModule } from './compat/compat.module.js';
import { appConfig, adminUiConfig, authConfig, iceConfig, limitsConfig, redisConfig, webhookConfig } from './config/configuration.js';
import { validateEnv, type Env } from './config/env.schema.js';
import { DocsModule } from './docs/docs.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { SecurityModule } from './security/security.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { SignalingModule } from './signaling/signaling.module.js';
import { StoreModule } from './users/store.module.js';
import { WebClientModule } from './web/web-client.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

/**
 * The root module. Built per app instance from the validated environment, so optional
 * features (web client, compatibility events, Redis) are simply present or absent.
 */
@Module({})
export class AppModule {
  static register(env: Env): DynamicModule {
    const optional: Array<Type | DynamicModule> = [
      ...(env.COMPAT_EVENTS ? [CompatModule] : []),
      ...(env.WEB_CLIENT ? [WebClientModule] : []),
      ...(env.WEBHOOK_URL ? [WebhooksModule] : []),
      ...(env.ADMIN_UI ? [AdminUiModule] : []),
    ];
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: env.NODE_ENV === 'test',
          load: [appConfig, limitsConfig, redisConfig, iceConfig, authConfig, webhookConfig, adminUiConfig],
          validate: (raw) => {
            validateEnv(raw);
            return raw;
          },
        }),
        CommonModule,
        SessionsModule,
        StoreModule.register(env),
        HealthModule,
        MetricsModule,
        AdminModule,
        DocsModule,
        ChatModule,
        SignalingModule,
        SecurityModule,
        ...optional,
      ],
    };
  }
}
