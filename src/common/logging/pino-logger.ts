import type { LoggerService, LogLevel } from '@nestjs/common';
import { pino, type DestinationStream, type Level, type Logger as Pino } from 'pino';
import pretty from 'pino-pretty';

/** Nest's levels, most severe first, and the pino level each one writes. */
const LEVELS: Array<[LogLevel, Level]> = [
  ['fatal', 'fatal'],
  ['error', 'error'],
  ['warn', 'warn'],
  ['log', 'info'],
  ['debug', 'debug'],
  ['verbose', 'trace'],
];

/**
 * Nest's own start-up narration (every module initialised, every route and gateway event
 * mapped: some 55 lines) goes out at debug: an operator needs the one banner, and
 * LOG_LEVEL=debug still shows the rest.
 */
const FRAMEWORK_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'WebSocketsController',
  'NestApplication',
]);

export interface PinoLoggerOptions {
  /** The most verbose Nest level written (LOG_LEVEL). */
  level: LogLevel;
  /** Human-readable lines (pino-pretty) instead of JSON. */
  pretty: boolean;
  /** Colours in pretty lines (only when they go to a terminal). */
  colorize?: boolean;
  /** Where JSON lines go; default: stdout, written asynchronously. */
  destination?: DestinationStream;
}

/**
 * Nest's logger over pino: one JSON object per line, written asynchronously (a hot path
 * never waits on stdout), or pretty-printed in development by a worker thread. A structured
 * message (an object) is merged into the line; a string becomes `msg`; the class context is
 * `context`. Nothing here adds data: what a line holds is what its caller wrote.
 */
/** The loggers writing to this process's stdout, for flushing at shutdown. */
const open = new Set<PinoLogger>();

/** Flushes every PinoLogger of the process (the app's shutdown hook calls it). */
export function flushLoggers(): void {
  for (const logger of open) logger.flush();
}

/**
 * Waits until every PinoLogger has written what it holds (at most `limitMs`), then flushes.
 * A synchronous flush is refused while an asynchronous write is in flight (into a pipe,
 * say), and sonic-boom's own `flush(cb)` does not wait for one: so shutdown, whose process
 * ends on its signal right after, polls until the write is done.
 */
export async function drainLoggers(limitMs = 1000): Promise<void> {
  const until = Date.now() + limitMs;
  for (const logger of open) {
    while (logger.writing && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
    logger.flush();
  }
}

export class PinoLogger implements LoggerService {
  readonly pino: Pino;
  private readonly destination: DestinationStream & { flushSync?: () => void };

  constructor(options: PinoLoggerOptions) {
    const level = LEVELS.find(([nest]) => nest === options.level)?.[1] ?? 'info';
    this.destination =
      options.destination ??
      (options.pretty
        ? pretty({ colorize: options.colorize ?? false, translateTime: 'SYS:HH:MM:ss.l', sync: false })
        : pino.destination({ dest: 1, sync: false }));
    this.pino = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, this.destination);
    open.add(this);
  }

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    this.write(typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context) ? 'debug' : 'info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest, true);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest, true);
  }

  /** Whether an asynchronous write to the destination is in flight (sonic-boom's own flag). */
  get writing(): boolean {
    return (this.destination as { _writing?: boolean })._writing === true;
  }

  /**
   * Writes what is still buffered, before the process ends (a signal's exit runs no
   * `exit` handlers, so shutdown calls this).
   */
  flush(): void {
    try {
      if (typeof this.destination.flushSync === 'function') this.destination.flushSync();
      else this.pino.flush();
    } catch {
      // Nothing left to write to (stdout closed).
    }
  }

  /**
   * Nest calls `(message, context)` and, for errors, `(message, stack, context)`; the last
   * string argument is the context.
   */
  private write(level: Level, message: unknown, rest: unknown[], mayHaveStack = false): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = mayHaveStack && rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    const fields: Record<string, unknown> = { ...(context !== undefined && { context }), ...(stack && { stack }) };
    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: { message: message.message, stack: message.stack } }, message.message);
    } else if (message !== null && typeof message === 'object') {
      const entry = message as Record<string, unknown>;
      // A structured line without a sentence is named by its event, so no line is blank.
      if (typeof entry.msg !== 'string' && typeof entry.event === 'string') {
        this.pino[level]({ ...fields, ...entry }, entry.event);
      } else {
        this.pino[level]({ ...fields, ...entry });
      }
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
