import 'reflect-metadata';
import type { LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ADMIN_UI_PATH, adminUiDashboard } from './admin-ui/admin-ui-dashboard.js';
import { ADMIN_UI_HANDSHAKE_FIELDS, ADMIN_UI_NAMESPACE, ADMIN_UI_ORIGIN } from './admin-ui/admin-ui.service.js';
import { AppModule } from './app.module.js';
import { frameLimit, ParleyIoAdapter } from './common/adapters/parley-io.adapter.js';
import { ParleyExpressAdapter } from './common/http/parley-express.adapter.js';
import { HANDSHAKE_LOGIN_FIELDS } from './compat/handshake-login.js';
import { validateEnv, type Env } from './config/env.schema.js';
import { serveOpenApi } from './docs/openapi.js';
import { RedisIoAdapter } from './redis/redis-io.adapter.js';
import { MAX_TOKEN_CHARS } from './security/jwt-auth.js';
import { securityHeaders } from './security/http-headers.js';
import { loadHttpsOptions } from './security/tls.js';
import { PinoLogger } from './common/logging/pino-logger.js';

export interface CreateAppOptions {
  /**
   * Settings for this app, over the process environment (a value of undefined removes a
   * variable). Tests start several apps in one process, each with its own.
   */
  env?: Record<string, string | undefined>;
  /**
   * A logger, a list of levels, or false for silence; default: pino at LOG_LEVEL, JSON lines
   * written asynchronously (pretty lines in development, or as LOG_FORMAT says).
   */
  logger?: LoggerService | LogLevel[] | false;
}

/**
 * The settings an app starts with: a `.env` file in the working directory (outside
 * NODE_ENV=test), then the process environment, then the caller's overrides; validated
 * once. Throws, naming the variable, when a value is invalid.
 */
export function resolveEnv(overrides: Record<string, string | undefined> = {}): Env {
  const merged: Record<string, string | undefined> = { ...process.env };
  for (const [key, value] of Object.entries(overrides)) merged[key] = value;
  if (merged.NODE_ENV !== 'test') {
    for (const [key, value] of Object.entries(readDotEnv()))
      if (merged[key] === undefined && !(key in overrides)) merged[key] = value;
  }
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return validateEnv(merged);
}

function readDotEnv(): Record<string, string> {
  const file = resolve(process.cwd(), '.env');
  return existsSync(file) ? (parseEnv(readFileSync(file, 'utf8')) as Record<string, string>) : {};
}

/**
 * Builds the Parley app (HTTP + Socket.IO), ready for `listen()`. Throws, naming the
 * variable, when the configuration is invalid. Never writes to process.env.
 */
export async function createApp(options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const env = resolveEnv(options.env);
  // TLS_CERT_FILE + TLS_KEY_FILE: HTTPS and WSS; unreadable files stop the start, named.
  const httpsOptions = loadHttpsOptions(env);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(env), new ParleyExpressAdapter(), {
    logger: options.logger ?? defaultLogger(env),
    abortOnError: false,
    // Bodies are read by the routes that take one, after their guards (JsonBodyInterceptor).
    bodyParser: false,
    ...(httpsOptions && { httpsOptions }),
  });
  app.use(securityHeaders({ tls: httpsOptions !== undefined }));
  app.enableCors({ origin: corsOrigins(env), credentials: true });
  if (env.ADMIN_UI) app.use(ADMIN_UI_PATH, adminUiDashboard());
  const ioOptions = {
    // The hosted admin UI connects from its own origin, allowed only while it is on.
    corsOrigins: env.ADMIN_UI ? [...corsOrigins(env), ADMIN_UI_ORIGIN] : corsOrigins(env),
    maxHttpBufferSize: frameLimit(env.MAX_MESSAGE_BYTES, env.MAX_SIGNAL_BYTES),
    recoveryWindowMs: env.RECOVERY_WINDOW_MS,
    coalesceWrites: env.WRITE_COALESCING,
    // What sockets keep of their handshake: only what Parley reads, each string bounded.
    handshakeFields: {
      '/': { auth: { token: MAX_TOKEN_CHARS, ...HANDSHAKE_LOGIN_FIELDS }, query: HANDSHAKE_LOGIN_FIELDS },
      [ADMIN_UI_NAMESPACE]: { auth: ADMIN_UI_HANDSHAKE_FIELDS, query: {} },
    },
  };
  if (env.REDIS_URL) {
    // Several nodes: Socket.IO rooms span them through Redis Streams (connected first).
    const ioAdapter = new RedisIoAdapter(app, ioOptions, { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX });
    await ioAdapter.connectToRedis();
    app.useWebSocketAdapter(ioAdapter);
  } else {
    app.useWebSocketAdapter(new ParleyIoAdapter(app, ioOptions));
  }
  serveOpenApi(app, env.DOCS_UI);
  app.enableShutdownHooks();
  return app;
}

function corsOrigins(env: Env): string[] {
  return env.CORS_ORIGIN.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
}

function defaultLogger(env: Env): LoggerService {
  // Pretty lines only for a person at a terminal in development; files and pipes get JSON
  // lines, and never colour codes.
  const tty = process.stdout.isTTY === true;
  const format = env.LOG_FORMAT ?? (env.NODE_ENV === 'development' && tty ? 'pretty' : 'json');
  return new PinoLogger({ level: env.LOG_LEVEL, pretty: format === 'pretty', colorize: tty });
}
