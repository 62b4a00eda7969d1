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

export interface PinoLoggerOptions {
  /** The most verbose Nest level written (LOG_LEVEL). */
  level: LogLevel;
  /** Human-readable lines (pino-pretty) instead of JSON. */
  pretty: boolean;
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

export class PinoLogger implements LoggerService {
  readonly pino: Pino;
  private readonly destination: DestinationStream & { flushSync?: () => void };

  constructor(options: PinoLoggerOptions) {
    const level = LEVELS.find(([nest]) => nest === options.level)?.[1] ?? 'info';
    this.destination =
      options.destination ??
      (options.pretty
        ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', sync: false })
        : pino.destination({ dest: 1, sync: false }));
    this.pino = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, this.destination);
    open.add(this);
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
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
      this.pino[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.pino[level](fields, String(message));
    }
  }
}
