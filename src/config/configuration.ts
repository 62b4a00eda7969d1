import { registerAs, type ConfigFactory } from '@nestjs/config';
import type { Env } from './env.schema.js';

/*
 * Typed configuration namespaces, built from the one validated environment createApp holds
 * (env.schema.ts), so the defaults live in one place, several apps in one process keep
 * their own settings, and feature code never touches process.env. Inject one with
 * `@Inject(limitsConfig.KEY) limits: LimitsConfig`.
 */

interface Namespace<T> {
  /** The injection token (the one @nestjs/config's registerAs gives the namespace). */
  readonly KEY: string;
  readonly token: string;
  readonly build: (env: Env) => T;
}

function namespace<T>(token: string, build: (env: Env) => T): Namespace<T> {
  return { KEY: `CONFIGURATION(${token})`, token, build };
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

export const appConfig = namespace('app', (e) => ({
  port: e.PORT,
  host: e.HOST,
  nodeEnv: e.NODE_ENV,
  corsOrigins: list(e.CORS_ORIGIN),
  logLevel: e.LOG_LEVEL,
  webClient: e.WEB_CLIENT,
  webClientDir: e.WEB_CLIENT_DIR,
  docsUi: e.DOCS_UI,
  adminUi: e.ADMIN_UI,
  compatEvents: e.COMPAT_EVENTS,
  adminToken: e.ADMIN_TOKEN,
  tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
}));

export const limitsConfig = namespace('limits', (e) => ({
  maxMessageBytes: e.MAX_MESSAGE_BYTES,
  maxSignalBytes: e.MAX_SIGNAL_BYTES,
  maxRoomUsers: e.MAX_ROOM_USERS,
  maxCallPeers: e.MAX_CALL_PEERS,
  ringTimeoutMs: e.RING_TIMEOUT_MS,
  recoveryWindowMs: e.RECOVERY_WINDOW_MS,
  rateLimitPerSec: e.RATE_LIMIT_PER_SEC,
  rateLimitBurst: e.RATE_LIMIT_BURST,
  maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
}));

export const redisConfig = namespace('redis', (e) => ({ url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX }));

export const iceConfig = namespace('ice', (e) => ({
  iceServers: JSON.parse(e.ICE_SERVERS) as Array<{ urls: string | string[]; username?: string; credential?: string }>,
  turnSecret: e.TURN_SECRET,
  turnUrls: e.TURN_URLS === undefined ? undefined : list(e.TURN_URLS),
  turnTtlS: e.TURN_TTL_S,
}));

export const authConfig = namespace('auth', (e) => ({
  jwtSecret: e.AUTH_JWT_SECRET,
  /** Whether a token without `exp` is accepted (AUTH_JWT_ALLOW_NO_EXP). */
  allowNoExp: e.AUTH_JWT_ALLOW_NO_EXP,
}));

export const historyConfig = namespace('history', (e) => ({
  /** Messages retained per room; 0 retains none (offsets and epochs are still assigned). */
  size: e.HISTORY_SIZE,
  ttlMs: e.HISTORY_TTL_S * 1000,
  roomBytes: e.HISTORY_ROOM_BYTES,
  /** The whole node's retained bytes (in-memory mode only). */
  maxBytes: e.HISTORY_MAX_BYTES,
}));

export const webhookConfig = namespace('webhooks', (e) => ({
  url: e.WEBHOOK_URL,
  secret: e.WEBHOOK_SECRET,
  queueSize: e.WEBHOOK_QUEUE_SIZE,
  retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
  timeoutMs: e.WEBHOOK_TIMEOUT_MS,
  // 1 + 2 + 4 + 8 + 16 + 32 s with the default base: six retries over a minute.
  maxRetries: 6,
}));

export const adminUiConfig = namespace('adminUi', (e) => ({
  enabled: e.ADMIN_UI,
  username: e.ADMIN_UI_USERNAME,
  passwordHash: e.ADMIN_UI_PASSWORD_HASH,
  readonly: e.ADMIN_UI_READONLY,
}));

const NAMESPACES: Array<Namespace<unknown>> = [
  appConfig,
  limitsConfig,
  redisConfig,
  iceConfig,
  authConfig,
  historyConfig,
  webhookConfig,
  adminUiConfig,
];

/** The namespaces as @nestjs/config factories over one validated environment. */
export function configFactories(env: Env): ConfigFactory[] {
  return NAMESPACES.map((ns) => registerAs(ns.token, () => ns.build(env) as Record<string, unknown>));
}

type Of<N> = N extends Namespace<infer T> ? T : never;
export type AppConfig = Of<typeof appConfig>;
export type LimitsConfig = Of<typeof limitsConfig>;
export type RedisConfig = Of<typeof redisConfig>;
export type IceConfig = Of<typeof iceConfig>;
export type AuthConfig = Of<typeof authConfig>;
export type HistoryConfig = Of<typeof historyConfig>;
export type WebhookConfig = Of<typeof webhookConfig>;
export type AdminUiConfig = Of<typeof adminUiConfig>;
