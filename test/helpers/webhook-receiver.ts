/**
 * A real HTTP webhook receiver for the specs (node:http on port 0): records every request
 * with its raw body, verifies signatures, and answers as the test scripts it (a status, a
 * status after a delay or with headers such as a redirect's Location, or no answer at all,
 * to make the sender time out).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookEvent } from '../../src/webhooks/webhook-event.js';

export interface ReceivedHook {
  headers: IncomingMessage['headers'];
  raw: string;
  event: WebhookEvent;
  at: number;
}

/** What to do with a request: answer with a status (after `delayMs`, with `headers`), or hold it without answering. */
export type Behaviour = number | 'hang' | { status: number; delayMs?: number; headers?: Record<string, string> };

/** Any request at all, webhook or not (a redirected GET has no body to parse). */
export interface RawRequest {
  method: string;
  url: string;
  raw: string;
  at: number;
}

export class WebhookReceiver {
  readonly hooks: ReceivedHook[] = [];
  /** Every request received, in order, including those that carry no event. */
  readonly requests: RawRequest[] = [];
  /** Used in order, one per request; `fallback` once they run out. */
  readonly script: Behaviour[] = [];
  fallback: Behaviour = 200;
  /** When set, decides instead of the script: `attempt` counts this event id's requests from 1. */
  decide?: (event: WebhookEvent, attempt: number) => Behaviour;
  private server?: Server;
  private readonly held = new Set<ServerResponse>();
  private waiters: Array<() => void> = [];
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', raw, at: Date.now() });
      if (req.method !== 'POST') {
        res.statusCode = 405;
        res.end();
        return;
      }
      const event = JSON.parse(raw) as WebhookEvent;
      this.hooks.push({ headers: req.headers, raw, event, at: Date.now() });
      for (const w of this.waiters.splice(0)) w();
      const attempt = this.hooks.filter((h) => h.event.id === event.id).length;
      const behaviour = this.decide
        ? this.decide(event, attempt)
        : this.script.length > 0
          ? this.script.shift()!
          : this.fallback;
      if (behaviour === 'hang') {
        this.held.add(res);
        res.on('close', () => this.held.delete(res));
        return;
      }
      const { status, delayMs = 0, headers = {} } = typeof behaviour === 'number' ? { status: behaviour } : behaviour;
      const answer = () => {
        res.writeHead(status, headers);
        res.end('ok');
      };
      if (delayMs === 0) return answer();
      this.held.add(res);
      const timer = setTimeout(answer, delayMs);
      res.on('close', () => {
        clearTimeout(timer);
        this.held.delete(res);
      });
    });
  }

  /** Requests held open right now (hanging or not answered yet). */
  get holding(): number {
    return this.held.size;
  }

  /** Every request's event (retries included), optionally for one room. */
  events(room?: string): WebhookEvent[] {
    return this.hooks
      .map((h) => h.event)
      .filter((e) => room === undefined || (e.data as { room?: string }).room === room);
  }

  /** Resolves when `check` holds over the received hooks, or fails after `timeoutMs`. */
  async until(check: (hooks: ReceivedHook[]) => boolean, timeoutMs = 5000, what = 'webhooks'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this.hooks)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; received: ${this.hooks.map((h) => h.event.type).join(', ') || 'nothing'}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** What a receiver does: recompute the HMAC over "<timestamp>.<raw body>" and compare in constant time. */
export function verifySignature(secret: string, hook: ReceivedHook): boolean {
  const timestamp = String(hook.headers['x-parley-timestamp'] ?? '');
  const given = String(hook.headers['x-parley-signature'] ?? '');
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${hook.raw}`).digest('hex')}`;
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}
