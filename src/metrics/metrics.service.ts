import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import type { ErrorCode } from '../common/errors/error-codes.js';

/**
 * Prometheus metrics for this node. Each app instance has its own registry, so several
 * instances in one process (tests) never collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly connections = new Gauge({
    name: 'parley_open_connections',
    help: 'Open Socket.IO connections on this node',
    registers: [this.registry],
  });
  readonly users = new Gauge({
    name: 'parley_logged_in_users',
    help: 'Logged-in users on this node',
    registers: [this.registry],
    // Counted from this node's sockets when scraped rather than moved by logins and logouts:
    // a logout decided elsewhere (a kick through another node's API, a dead node swept
    // from here) happens on a node that does not hold the socket.
    collect: async () => {
      const [count] = this.bus.answerersOf('localUserCount');
      if (count) this.users.set(await count());
    },
  });
  readonly rooms = new Gauge({
    name: 'parley_rooms',
    help: 'Rooms with at least one user',
    registers: [this.registry],
    collect: async () => {
      const [count] = this.bus.answerersOf('roomCount');
      if (count) this.rooms.set(await count());
    },
  });
  readonly messages = new Counter({
    name: 'parley_messages_relayed_total',
    help: 'Room messages relayed',
    registers: [this.registry],
  });
  readonly directs = new Counter({
    name: 'parley_direct_items_relayed_total',
    help: 'Per-recipient direct payloads relayed',
    registers: [this.registry],
  });
  readonly signals = new Counter({
    name: 'parley_signals_relayed_total',
    help: 'Call signaling events relayed',
    registers: [this.registry],
  });
  readonly callsStarted = new Counter({
    name: 'parley_calls_started_total',
    help: 'Calls started (ringing)',
    registers: [this.registry],
  });
  readonly callsAnswered = new Counter({
    name: 'parley_calls_answered_total',
    help: 'Calls answered',
    registers: [this.registry],
  });
  readonly callsEnded = new Counter({
    name: 'parley_calls_ended_total',
    help: 'Calls ended, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly refusedConnections = new Counter({
    name: 'parley_connections_refused_total',
    help: 'Socket.IO connections refused before they were accepted, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly floodDisconnects = new Counter({
    name: 'parley_flood_disconnects_total',
    help: 'Sockets disconnected for flooding far over their rate limit',
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'parley_rejected_requests_total',
    help: 'Refused requests by error code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly recovered = new Counter({
    name: 'parley_reconnections_recovered_total',
    help: 'Dropped connections recovered within the window',
    registers: [this.registry],
  });
  private historyTotals?: () => { messages: number; bytes: number };
  readonly historyMessages = new Gauge({
    name: 'parley_history_retained_messages',
    help: 'Room messages retained for history on this node (in-memory mode)',
    registers: [this.registry],
    collect: () => {
      if (this.historyTotals) this.historyMessages.set(this.historyTotals().messages);
    },
  });
  readonly historyBytes = new Gauge({
    name: 'parley_history_retained_bytes',
    help: 'Ciphertext bytes retained for history on this node (in-memory mode)',
    registers: [this.registry],
    collect: () => {
      if (this.historyTotals) this.historyBytes.set(this.historyTotals().bytes);
    },
  });
  readonly historyEvictions = new Counter({
    name: 'parley_history_evictions_total',
    help: 'Retained messages dropped, by reason (count, bytes, age, node-bytes)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly historyRequests = new Counter({
    name: 'parley_history_requests_total',
    help: 'history requests answered, by whether the answer was complete',
    labelNames: ['complete'],
    registers: [this.registry],
  });
  readonly expired = new Counter({
    name: 'parley_reconnections_expired_total',
    help: 'Dropped connections logged out when the window ended',
    registers: [this.registry],
  });

  constructor(private readonly bus: DomainEventBus) {
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
  }

  /** The history store's node-wide totals, read at scrape time. */
  setHistoryCollector(totals: () => { messages: number; bytes: number }): void {
    this.historyTotals = totals;
  }

  reject(code: ErrorCode): void {
    this.rejected.inc({ code });
  }
}
