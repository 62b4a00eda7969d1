import { registerAs } from '@nestjs/config';
import { validateEnv } from './env.schema.js';

/*
 * Typed configuration namespaces. Each factory reads the validated environment, so the
 * defaults live in one place (env.schema.ts) and feature code never touches process.env.
 */
const env = () => validateEnv(process.env);

export const appConfig = registerAs('app', () => {
  const e = env();
  return {
    port: e.PORT,
    host: e.HOST,
    nodeEnv: e.NODE_ENV,
    corsOrigins: e.CORS_ORIGIN.split(',').map((o) => o.trim()).filter(Boolean),
    logLevel: e.LOG_LEVEL,
    webClient: e.WEB_CLIENT,
    compatEvents: e.COMPAT_EVENTS,
    adminToken: e.ADMIN_TOKEN,
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
  };
});

export const limitsConfig = registerAs('limits', () => {
  const e = env();
  return {
    maxMessageBytes: e.MAX_MESSAGE_BYTES,
    maxSignalBytes: e.MAX_SIGNAL_BYTES,
    maxRoomUsers: e.MAX_ROOM_USERS,
    ringTimeoutMs: e.RING_TIMEOUT_MS,
    recoveryWindowMs: e.RECOVERY_WINDOW_MS,
    rateLimitPerSec: e.RATE_LIMIT_PER_SEC,
    rateLimitBurst: e.RATE_LIMIT_BURST,
    maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
  };
});

export const redisConfig = registerAs('redis', () => {
  const e = env();
  return { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX };
});

export const iceConfig = registerAs('ice', () => {
  const e = env();
  return {
    iceServers: JSON.parse(e.ICE_SERVERS) as Array<{ urls: string | string[]; username?: string; credential?: string }>,
    turnSecret: e.TURN_SECRET,
    turnUrls: e.TURN_URLS?.split(',').map((u) => u.trim()).filter(Boolean),
    turnTtlS: e.TURN_TTL_S,
  };
});

export const authConfig = registerAs('auth', () => {
  const e = env();
  return { jwtSecret: e.AUTH_JWT_SECRET };
});

export const webhookConfig = registerAs('webhooks', () => {
  const e = env();
  return {
    url: e.WEBHOOK_URL,
    secret: e.WEBHOOK_SECRET,
    queueSize: e.WEBHOOK_QUEUE_SIZE,
    retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    // 1 + 2 + 4 + 8 + 16 + 32 s with the default base: six retries over a minute.
    maxRetries: 6,
  };
});

export const adminUiConfig = registerAs('adminUi', () => {
  const e = env();
  return {
    enabled: e.ADMIN_UI,
    username: e.ADMIN_UI_USERNAME,
    passwordHash: e.ADMIN_UI_PASSWORD_HASH,
    readonly: e.ADMIN_UI_READONLY,
  };
});

export type AppConfig = ReturnType<typeof appConfig>;
export type LimitsConfig = ReturnType<typeof limitsConfig>;
export type RedisConfig = ReturnType<typeof redisConfig>;
export type IceConfig = ReturnType<typeof iceConfig>;
export type AuthConfig = ReturnType<typeof authConfig>;
export type WebhookConfig = ReturnType<typeof webhookConfig>;
export type AdminUiConfig = ReturnType<typeof adminUiConfig>;
