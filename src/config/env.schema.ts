import Joi from 'joi';

const bool = Joi.boolean().truthy('1', 'yes', 'on').falsy('0', 'no', 'off');

/**
 * Every variable of the protocol's configuration table, with its default. Validated once at
 * start; a bad value stops the start with a message that names the variable.
 */
export const envSchema = Joi.object({
  PORT: Joi.number().integer().min(0).max(65535).default(3001),
  HOST: Joi.string().default('0.0.0.0'),
  NODE_ENV: Joi.string().valid('development', 'production', 'test').default('development'),
  CORS_ORIGIN: Joi.string().when('NODE_ENV', {
    is: 'production',
    then: Joi.required().invalid('*'),
    otherwise: Joi.optional().default('http://localhost:3000'),
  }),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'log', 'debug', 'verbose').default('log'),
  MAX_MESSAGE_BYTES: Joi.number().integer().min(1).max(16 * 1024 * 1024).default(65536),
  MAX_SIGNAL_BYTES: Joi.number().integer().min(1).max(16 * 1024 * 1024).default(65536),
  MAX_ROOM_USERS: Joi.number().integer().min(1).default(500),
  RING_TIMEOUT_MS: Joi.number().integer().min(1).default(30000),
  RECOVERY_WINDOW_MS: Joi.number().integer().min(0).default(0),
  REDIS_URL: Joi.string().uri({ scheme: ['redis', 'rediss'] }).optional(),
  REDIS_KEY_PREFIX: Joi.string().default('parley:'),
  ADMIN_TOKEN: Joi.string().min(1).optional(),
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
            (typeof s.urls === 'string' || (Array.isArray(s.urls) && s.urls.every((u: unknown) => typeof u === 'string'))),
        );
      return ok ? value : helpers.error('any.invalid');
    })
    .default('[]')
    .messages({ 'any.invalid': '"ICE_SERVERS" must be a JSON array of RTCIceServer objects' }),
  TURN_SECRET: Joi.string().min(1).optional(),
  TURN_URLS: Joi.string().min(1).optional(),
  TURN_TTL_S: Joi.number().integer().min(1).default(3600),
  AUTH_JWT_SECRET: Joi.string().min(1).optional(),
  RATE_LIMIT_PER_SEC: Joi.number().min(0).default(50),
  RATE_LIMIT_BURST: Joi.number().integer().min(0).default(100),
  MAX_CONNECTIONS_PER_IP: Joi.number().integer().min(1).default(1000),
  COMPAT_EVENTS: bool.default(true),
  TLS_CERT_FILE: Joi.string().min(1).optional(),
  TLS_KEY_FILE: Joi.string().min(1).optional(),
  DOCS_UI: bool.when('NODE_ENV', { is: 'production', then: Joi.optional().default(false), otherwise: Joi.optional().default(true) }),
  ADMIN_UI: bool.default(false),
  ADMIN_UI_USERNAME: Joi.string().min(1).when('ADMIN_UI', { is: true, then: Joi.required(), otherwise: Joi.optional() }),
  // A bcrypt hash ($2a$, $2b$ or $2y$, cost, 53 characters of salt and hash), never a password.
  ADMIN_UI_PASSWORD_HASH: Joi.string()
    .pattern(/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/)
    .when('ADMIN_UI', { is: true, then: Joi.required(), otherwise: Joi.optional() })
    .messages({ 'string.pattern.base': '"ADMIN_UI_PASSWORD_HASH" must be a bcrypt hash (e.g. from: npx bcryptjs-cli or node -e "console.log(require(\'bcryptjs\').hashSync(process.argv[1], 12))" <password>)' }),
  ADMIN_UI_READONLY: bool.default(true),
  WEBHOOK_URL: Joi.string().uri({ scheme: ['http', 'https'] }).optional(),
  WEBHOOK_SECRET: Joi.string().min(1).when('WEBHOOK_URL', { is: Joi.exist(), then: Joi.required(), otherwise: Joi.optional() }),
  WEBHOOK_QUEUE_SIZE: Joi.number().integer().min(1).default(10000),
  // For tests: the first retry pause and the per-attempt deadline (the protocol's 1 s and 5 s).
  WEBHOOK_RETRY_BASE_MS: Joi.number().integer().min(1).max(1000).default(1000),
  WEBHOOK_TIMEOUT_MS: Joi.number().integer().min(1).max(5000).default(5000),
  WEB_CLIENT: bool.when('NODE_ENV', { is: 'production', then: Joi.optional().default(false), otherwise: Joi.optional().default(true) }),
})
  .and('TLS_CERT_FILE', 'TLS_KEY_FILE')
  .unknown(true);

export interface Env {
  PORT: number;
  HOST: string;
  NODE_ENV: 'development' | 'production' | 'test';
  CORS_ORIGIN: string;
  LOG_LEVEL: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  MAX_MESSAGE_BYTES: number;
  MAX_SIGNAL_BYTES: number;
  MAX_ROOM_USERS: number;
  RING_TIMEOUT_MS: number;
  RECOVERY_WINDOW_MS: number;
  REDIS_URL?: string;
  REDIS_KEY_PREFIX: string;
  ADMIN_TOKEN?: string;
  ICE_SERVERS: string;
  TURN_SECRET?: string;
  TURN_URLS?: string;
  TURN_TTL_S: number;
  AUTH_JWT_SECRET?: string;
  RATE_LIMIT_PER_SEC: number;
  RATE_LIMIT_BURST: number;
  MAX_CONNECTIONS_PER_IP: number;
  COMPAT_EVENTS: boolean;
  TLS_CERT_FILE?: string;
  TLS_KEY_FILE?: string;
  WEB_CLIENT: boolean;
  DOCS_UI: boolean;
  ADMIN_UI: boolean;
  ADMIN_UI_USERNAME?: string;
  ADMIN_UI_PASSWORD_HASH?: string;
  ADMIN_UI_READONLY: boolean;
  WEBHOOK_URL?: string;
  WEBHOOK_SECRET?: string;
  WEBHOOK_QUEUE_SIZE: number;
  WEBHOOK_RETRY_BASE_MS: number;
  WEBHOOK_TIMEOUT_MS: number;
}

/** Validates an environment; throws an Error naming every bad variable. */
export function validateEnv(raw: Record<string, unknown>): Env {
  const { error, value } = envSchema.validate(raw, { abortEarly: false, convert: true });
  if (error) {
    throw new Error(`Config validation error: ${error.details.map((d) => d.message).join('; ')}`);
  }
  return value as Env;
}
