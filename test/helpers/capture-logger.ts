/**
 * A LoggerService that records every call at every level (fatal … verbose), with all its
 * arguments, so a spec can search everything the app tried to log.
 */
import type { LoggerService } from '@nestjs/common';

export interface CapturedLine {
  level: 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  args: unknown[];
}

export class CaptureLogger implements LoggerService {
  readonly lines: CapturedLine[] = [];

  fatal(...args: unknown[]): void {
    this.lines.push({ level: 'fatal', args });
  }
  error(...args: unknown[]): void {
    this.lines.push({ level: 'error', args });
  }
  warn(...args: unknown[]): void {
    this.lines.push({ level: 'warn', args });
  }
  log(...args: unknown[]): void {
    this.lines.push({ level: 'log', args });
  }
  debug(...args: unknown[]): void {
    this.lines.push({ level: 'debug', args });
  }
  verbose(...args: unknown[]): void {
    this.lines.push({ level: 'verbose', args });
  }

  /** Everything logged, as one searchable string (objects serialised, errors with stacks). */
  text(): string {
    return this.lines.map((l) => `${l.level} ${l.args.map(render).join(' ')}`).join('\n');
  }

  /** Lines whose text matches. */
  find(pattern: RegExp | string): CapturedLine[] {
    return this.lines.filter((l) => {
      const t = l.args.map(render).join(' ');
      return typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t);
    });
  }
}

function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ''}`;
  try {
    return (
      JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? `${v.message} ${v.stack ?? ''}` : v)) ??
      String(value)
    );
  } catch {
    return String(value);
  }
}
