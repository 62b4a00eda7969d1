import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import { webhookConfig, type WebhookConfig } from '../config/configuration.js';
import { LogThrottle } from '../common/logging/log-throttle.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { WebhookData, WebhookEvent, WebhookType } from './webhook-event.js';
import { signWebhook } from './webhook-signature.js';

interface Delivery {
  id: string;
  type: WebhookType;
  timestamp: string;
  body: string;
  /** Retries made so far. */
  retries: number;
}

/** Requests in flight at once: enough for a slow receiver not to hold the rest back. */
const CONCURRENCY = 4;

/** The abort reason of an attempt that ran out of time (compared by identity). */
const DEADLINE = new DOMException('the webhook deadline passed', 'TimeoutError');

/**
 * Delivers webhook events from a bounded in-process queue. `send` only serialises and
 * enqueues: no I/O, no await, so chat and signaling never wait for a receiver. A failed
 * attempt (not 2xx, an error, or no answer within the deadline) is retried with the same id
 * and body after a pause that starts at `retryBaseMs` and doubles, `maxRetries` times.
 * Events waiting for a retry count against the bound; a full queue drops the new event.
 * A retry whose pause is over goes before every fresh event, so a backlog of new events
 * cannot stretch its pause: it waits only for older retries and for a free slot, and every
 * attempt ends within the deadline. Redirects are never followed: a 3xx is a failure.
 */
@Injectable()
export class WebhookSenderService implements OnModuleDestroy {
  private readonly logger = new Logger(WebhookSenderService.name);
  /** Fresh events, in the order they happened. */
  private readonly ready: Delivery[] = [];
  /** Retries whose pause is over, served first (oldest first). */
  private readonly due: Delivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** One controller per attempt in flight, for the shutdown to abort. */
  private readonly attempts = new Set<AbortController>();
  private stopped = false;
  private inFlight = 0;
  /** At most one "queue full" warning per 10 s (every drop is counted in the metrics). */
  private readonly fullLog = new LogThrottle(10_000);

  private readonly sent: Counter;
  private readonly retried: Counter;
  private readonly failed: Counter;
  private readonly dropped: Counter;

  constructor(
    @Inject(webhookConfig.KEY) private readonly config: WebhookConfig,
    metrics: MetricsService,
  ) {
    const registers = [metrics.registry];
    this.sent = new Counter({
      name: 'parley_webhooks_sent_total',
      help: 'Webhook events the receiver accepted (2xx)',
      registers,
    });
    this.retried = new Counter({
      name: 'parley_webhooks_retried_total',
      help: 'Webhook attempts scheduled again after a failure',
      registers,
    });
    this.failed = new Counter({
      name: 'parley_webhooks_failed_total',
      help: 'Webhook events given up after the last retry',
      registers,
    });
    this.dropped = new Counter({
      name: 'parley_webhooks_dropped_total',
      help: 'Webhook events dropped because the queue was full',
      registers,
    });
    const queued = () => this.size;
    new Gauge({
      name: 'parley_webhooks_queued',
      help: 'Webhook events waiting, in flight or waiting for a retry',
      registers,
      collect() {
        this.set(queued());
      },
    });
  }

  get enabled(): boolean {
    return this.config.url !== undefined && this.config.secret !== undefined;
  }

  /** Events held right now: ready, in flight, or waiting for a retry. */
  get size(): number {
    return this.ready.length + this.due.length + this.inFlight + this.timers.size;
  }

  send<T extends WebhookType>(type: T, data: WebhookData[T]): void {
    if (!this.enabled || this.stopped) return;
    if (this.size >= this.config.queueSize) {
      this.dropped.inc();
      this.logFull(type);
      return;
    }
    const event: WebhookEvent<T> = { id: randomUUID(), type, at: Date.now(), data };
    this.ready.push({ id: event.id, type, timestamp: String(event.at), body: JSON.stringify(event), retries: 0 });
    this.pump();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    for (const attempt of this.attempts) attempt.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.ready.length = 0;
    this.due.length = 0;
  }

  private pump(): void {
    while (this.inFlight < CONCURRENCY) {
      const delivery = this.due.shift() ?? this.ready.shift();
      if (!delivery) return;
      this.inFlight += 1;
      void this.attempt(delivery).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async attempt(d: Delivery): Promise<void> {
    let failure: string;
    const attempt = new AbortController();
    this.attempts.add(attempt);
    // The deadline is a plain timer held until the attempt settles, covering the answer's
    // body as well. Not AbortSignal.any([AbortSignal.timeout(…), …]): on Node 20 the timeout
    // signal can be garbage-collected before it fires, and the request then waits for
    // undici's own 300 s header timeout while it holds one of the slots.
    const deadline = setTimeout(() => attempt.abort(DEADLINE), this.config.timeoutMs);
    deadline.unref();
    try {
      const res = await fetch(this.config.url!, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'Parley-Webhooks',
          'X-Parley-Timestamp': d.timestamp,
          'X-Parley-Signature': signWebhook(this.config.secret!, d.timestamp, d.body),
        },
        body: d.body,
        // A redirect would re-send the signed event elsewhere (307) or turn it into a
        // bodyless GET (302) that then counted as delivered; a 3xx fails like a 500.
        redirect: 'manual',
        signal: attempt.signal,
      });
      // Only the status matters; the receiver's answer is not read.
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        this.sent.inc();
        return;
      }
      failure = res.status >= 300 && res.status < 400 ? `status ${res.status}, not followed` : `status ${res.status}`;
    } catch (err) {
      failure = attempt.signal.reason === DEADLINE ? `no answer within ${this.config.timeoutMs} ms` : String(err);
    } finally {
      clearTimeout(deadline);
      this.attempts.delete(attempt);
    }
    if (this.stopped) return;
    if (d.retries >= this.config.maxRetries) {
      this.failed.inc();
      this.logger.warn({ event: 'webhook-failed', id: d.id, type: d.type, retries: d.retries, failure });
      return;
    }
    const pause = this.config.retryBaseMs * 2 ** d.retries;
    d.retries += 1;
    this.retried.inc();
    this.logger.debug({ event: 'webhook-retry', id: d.id, type: d.type, retry: d.retries, pauseMs: pause, failure });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.due.push(d);
      this.pump();
    }, pause);
    timer.unref();
    this.timers.add(timer);
  }

  private logFull(type: WebhookType): void {
    this.fullLog.run('queue-full', (extra) =>
      this.logger.warn({ event: 'webhook-queue-full', type, queueSize: this.config.queueSize, ...extra }),
    );
  }
}
