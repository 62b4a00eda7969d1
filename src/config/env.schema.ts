import Joi from 'joi';

const bool = Joi.boolean().truthy('1', 'yes', 'on').falsy('0', 'no', 'off');

/**
 * Every variable of the protocol's configuration table, with its default: the one source
 * of the configuration. `Env` is inferred from it, so a variable added here is typed
 * everywhere. Validated once, in createApp; a bad value stops the start with a message that
 * names the variable. Features read it through the typed namespaces of configuration.ts.
 */
declare const OPTIONAL: unique symbol;
type Optional<S> = S & { readonly [OPTIONAL]: true };

/** An optional variable: absent stays absent (typed `T | undefined`). */
function opt<S extends Joi.Schema>(schema: S): Optional<S> {
  return schema.optional() as Optional<S>;
}

/** The shortest secret a production start accepts (protocol v1.2). */
export const MIN_SECRET_CHARS = 32;

/**
 * A secret: any non-empty string outside production; in production at least 32 characters,
 * or a guessable token (`ADMIN_TOKEN=x`) would be accepted on a public server.
 */
function secret(name: string): Joi.StringSchema {
  return Joi.string()
    .min(1)
    .when(Joi.ref('NODE_ENV'), { is: 'production', then: Joi.string().min(MIN_SECRET_CHARS) })
    .messages({
      'string.min': `"${name}" must be at least ${MIN_SECRET_CHARS} characters in production (a long random string, e.g. \`openssl rand -base64 32\`)`,
    });
}

const spec = {
  PORT: Joi.number().integer().min(0).max(65535).default(3001),
  HOST: Joi.string().default('0.0.0.0'),
  NODE_ENV: Joi.string<'development' | 'production' | 'test'>()
    .valid('development', 'production', 'test')
    .default('development'),
  CORS_ORIGIN: Joi.string().when('NODE_ENV', {
    is: 'production',
    then: Joi.required().invalid('*'),
    otherwise: Joi.optional().default('http://localhost:3000'),
  }),
  LOG_LEVEL: Joi.string<'error' | 'warn' | 'log' | 'debug' | 'verbose'>()
    .valid('error', 'warn', 'log', 'debug', 'verbose')
    .default('log'),
  // Pretty lines in development, JSON lines otherwise.
  LOG_FORMAT: opt(Joi.string<'json' | 'pretty'>().valid('json', 'pretty')),
  MAX_MESSAGE_BYTES: Joi.number()
    .integer()
    .min(1)
    .max(16 * 1024 * 1024)
    .default(65536),
  MAX_SIGNAL_BYTES: Joi.number()
    .integer()
    .min(1)
    .max(16 * 1024 * 1024)
    .default(65536),
  MAX_ROOM_USERS: Joi.number().integer().min(1).default(500),
  // Participants of one room call: a full mesh serves a handful (protocol v1.2: 2–16).
  MAX_CALL_PEERS: Joi.number().integer().min(2).max(16).default(6),
  RING_TIMEOUT_MS: Joi.number().integer().min(1).default(30000),
  RECOVERY_WINDOW_MS: Joi.number().integer().min(0).default(0),
  WRITE_COALESCING: bool.default(true),
  REDIS_URL: opt(Joi.string().uri({ scheme: ['redis', 'rediss'] })),
  REDIS_KEY_PREFIX: Joi.string().default('parley:'),
  ADMIN_TOKEN: opt(secret('ADMIN_TOKEN')),
  ICE_SERVERS: Joi.string()
    .custom((value: string, helpers) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return helpers.error('any.invalid');
      }
      const ok =
        Array.isArray(parsed) &&
        parsed.every(
          (s) =>
            s !== null &&
            typeof s === 'object' &&
            (typeof s.urls === 'string' ||
              (Array.isArray(s.urls) && s.urls.every((u: unknown) => typeof u === 'string'))),
        );
      return ok ? value : helpers.error('any.invalid');
    })
    .default('[]')
    .messages({ 'any.invalid': '"ICE_SERVERS" must be a JSON array of RTCIceServer objects' }),
  TURN_SECRET: opt(secret('TURN_SECRET')),
  TURN_URLS: opt(Joi.string().min(1)),
  TURN_TTL_S: Joi.number().integer().min(1).default(3600),
  AUTH_JWT_SECRET: opt(secret('AUTH_JWT_SECRET')),
  // Tokens without `exp` would never expire; accepted only when this says so.
  AUTH_JWT_ALLOW_NO_EXP: bool.default(false),
  RATE_LIMIT_PER_SEC: Joi.number().min(0).default(50),
  RATE_LIMIT_BURST: Joi.number().integer().min(0).default(100),
  MAX_CONNECTIONS_PER_IP: Joi.number().integer().min(1).default(1000),
  COMPAT_EVENTS: bool.default(true),
  TLS_CERT_FILE: opt(Joi.string().min(1)),
  TLS_KEY_FILE: opt(Joi.string().min(1)),
  WEB_CLIENT: bool.when('NODE_ENV', {
    is: 'production',
    then: Joi.optional().default(false),
    otherwise: Joi.optional().default(true),
  }),
  WEB_CLIENT_DIR: opt(Joi.string().min(1)),
  HISTORY_SIZE: Joi.number().integer().min(0).max(100_000).default(50),
  HISTORY_TTL_S: Joi.number().integer().min(1).default(3600),
  HISTORY_ROOM_BYTES: Joi.number().integer().min(0).default(1048576),
  HISTORY_MAX_BYTES: Joi.number().integer().min(0).default(268435456),
  DOCS_UI: bool.when('NODE_ENV', {
    is: 'production',
    then: Joi.optional().default(false),
    otherwise: Joi.optional().default(true),
  }),
  ADMIN_UI: bool.default(false),
  ADMIN_UI_USERNAME: opt(Joi.string().min(1)).when('ADMIN_UI', { is: true, then: Joi.required() }),
  // A bcrypt hash ($2a$, $2b$ or $2y$, cost, 53 characters of salt and hash), never a password.
  ADMIN_UI_PASSWORD_HASH: opt(
    Joi.string()
      .pattern(/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/)
      .messages({
        'string.pattern.base':
          '"ADMIN_UI_PASSWORD_HASH" must be a bcrypt hash, never the password itself (see README, "Admin UI")',
      }),
  ).when('ADMIN_UI', { is: true, then: Joi.required() }),
  ADMIN_UI_READONLY: bool.default(true),
  WEBHOOK_URL: opt(Joi.string().uri({ scheme: ['http', 'https'] })),
  WEBHOOK_SECRET: opt(secret('WEBHOOK_SECRET')).when('WEBHOOK_URL', { is: Joi.exist(), then: Joi.required() }),
  WEBHOOK_QUEUE_SIZE: Joi.number().integer().min(1).default(10000),
  // For tests: the first retry pause and the per-attempt deadline (the protocol's 1 s and 5 s).
  WEBHOOK_RETRY_BASE_MS: Joi.number().integer().min(1).max(1000).default(1000),
  WEBHOOK_TIMEOUT_MS: Joi.number().integer().min(1).max(5000).default(5000),
};

type ValueOf<S> = S extends Joi.Schema<infer T> ? (S extends { readonly [OPTIONAL]: true } ? T | undefined : T) : never;

/** The validated environment (defaults applied), as createApp hands it to the modules. */
export type Env = { [K in keyof typeof spec]: ValueOf<(typeof spec)[K]> };

export const envSchema = Joi.object(spec).and('TLS_CERT_FILE', 'TLS_KEY_FILE').unknown(true);

/** Validates an environment; throws an Error naming every bad variable. */
export function validateEnv(raw: Record<string, unknown>): Env {
  const { error, value } = envSchema.validate(raw, { abortEarly: false, convert: true });
  if (error) {
    throw new Error(`Config validation error: ${error.details.map((d) => d.message).join('; ')}`);
  }
  return value as Env;
}
