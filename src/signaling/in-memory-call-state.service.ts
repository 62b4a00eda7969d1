import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AlreadyInCallError } from '../common/errors/parley.error.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { CallStateService, type CallStatus } from './call-state.service.js';

interface Call {
  callerId: string;
  calleeId: string;
  status: CallStatus;
  timer?: NodeJS.Timeout;
}

/**
 * Calls by both of their sockets: `calls.get(a).get(b)` and `calls.get(b).get(a)` are the
 * same call. Every relayed signal asks `status(a, b)`: two lookups with the ids as they
 * came, no pair key built per signal.
 */
@Injectable()
export class InMemoryCallStateService extends CallStateService implements OnModuleDestroy {
  private readonly calls = new Map<string, Map<string, Call>>();

  constructor(private readonly bus: DomainEventBus) {
    super();
  }

  async start(callerId: string, calleeId: string, ringTimeoutMs: number): Promise<void> {
    if (this.get(callerId, calleeId)) throw new AlreadyInCallError(calleeId);
    const call: Call = { callerId, calleeId, status: 'pending' };
    call.timer = setTimeout(() => this.ringOut(call), ringTimeoutMs);
    call.timer.unref();
    this.link(callerId, calleeId, call);
    this.link(calleeId, callerId, call);
  }

  async accept(a: string, b: string): Promise<boolean> {
    const call = this.get(a, b);
    if (!call) return false;
    clearTimeout(call.timer);
    call.timer = undefined;
    const answered = call.status === 'pending';
    call.status = 'active';
    if (answered) this.bus.publish('call.started', { callerId: call.callerId, calleeId: call.calleeId });
    return true;
  }

  status(a: string, b: string): CallStatus | undefined {
    return this.get(a, b)?.status;
  }

  async end(a: string, b: string): Promise<boolean> {
    const call = this.get(a, b);
    if (call) {
      this.remove(call);
      this.bus.publish('call.ended', { callerId: call.callerId, calleeId: call.calleeId, reason: 'hangup' });
    }
    return call !== undefined;
  }

  async endAll(id: string): Promise<string[]> {
    const calls = [...(this.calls.get(id)?.values() ?? [])];
    const peers: string[] = [];
    for (const call of calls) {
      this.remove(call);
      peers.push(call.callerId === id ? call.calleeId : call.callerId);
      this.bus.publish('call.ended', { callerId: call.callerId, calleeId: call.calleeId, reason: 'disconnected' });
    }
    return peers;
  }

  onModuleDestroy(): void {
    for (const peers of this.calls.values()) for (const call of peers.values()) clearTimeout(call.timer);
    this.calls.clear();
  }

  private ringOut(call: Call): void {
    if (this.get(call.callerId, call.calleeId) !== call || call.status !== 'pending') return;
    this.remove(call);
    this.bus.publish('call.ended', { callerId: call.callerId, calleeId: call.calleeId, reason: 'timeout' });
    this.bus.publish('call.ringTimeout', { callerId: call.callerId, calleeId: call.calleeId });
  }

  private get(a: string, b: string): Call | undefined {
    return this.calls.get(a)?.get(b);
  }

  private remove(call: Call): void {
    clearTimeout(call.timer);
    this.unlink(call.callerId, call.calleeId);
    this.unlink(call.calleeId, call.callerId);
  }

  private link(id: string, peer: string, call: Call): void {
    let peers = this.calls.get(id);
    if (!peers) this.calls.set(id, (peers = new Map()));
    peers.set(peer, call);
  }

  private unlink(id: string, peer: string): void {
    const peers = this.calls.get(id);
    if (!peers) return;
    peers.delete(peer);
    if (peers.size === 0) this.calls.delete(id);
  }
}
