import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AlreadyInCallError } from '../common/errors/parley.error.js';
import { DomainEventBus } from '../common/domain-events/domain-event-bus.service.js';
import { CallStateService, pairKey, type CallStatus } from './call-state.service.js';

interface Call {
  callerId: string;
  calleeId: string;
  status: CallStatus;
  timer?: NodeJS.Timeout;
}

@Injectable()
export class InMemoryCallStateService extends CallStateService implements OnModuleDestroy {
  private readonly calls = new Map<string, Call>();
  private readonly bySocket = new Map<string, Set<string>>();

  constructor(private readonly bus: DomainEventBus) {
    super();
  }

  async start(callerId: string, calleeId: string, ringTimeoutMs: number): Promise<void> {
    const key = pairKey(callerId, calleeId);
    if (this.calls.has(key)) throw new AlreadyInCallError(calleeId);
    const call: Call = { callerId, calleeId, status: 'pending' };
    call.timer = setTimeout(() => this.ringOut(key), ringTimeoutMs);
    call.timer.unref();
    this.calls.set(key, call);
    this.index(callerId, key);
    this.index(calleeId, key);
  }

  async accept(a: string, b: string): Promise<boolean> {
    const call = this.calls.get(pairKey(a, b));
    if (!call) return false;
    clearTimeout(call.timer);
    call.timer = undefined;
    const answered = call.status === 'pending';
    call.status = 'active';
    if (answered) this.bus.publish('call.started', { callerId: call.callerId, calleeId: call.calleeId });
    return true;
  }

  status(a: string, b: string): CallStatus | undefined {
    return this.calls.get(pairKey(a, b))?.status;
  }

  async end(a: string, b: string): Promise<boolean> {
    const call = this.remove(pairKey(a, b));
    if (call) this.bus.publish('call.ended', { callerId: call.callerId, calleeId: call.calleeId, reason: 'hangup' });
    return call !== undefined;
  }

  async endAll(id: string): Promise<string[]> {
    const keys = [...(this.bySocket.get(id) ?? [])];
    const peers: string[] = [];
    for (const key of keys) {
      const call = this.remove(key);
      if (!call) continue;
      peers.push(call.callerId === id ? call.calleeId : call.callerId);
      this.bus.publish('call.ended', { callerId: call.callerId, calleeId: call.calleeId, reason: 'disconnected' });
    }
    return peers;
  }

  onModuleDestroy(): void {
    for (const call of this.calls.values()) clearTimeout(call.timer);
    this.calls.clear();
    this.bySocket.clear();
  }

  private ringOut(key: string): void {
    const call = this.calls.get(key);
    if (!call || call.status !== 'pending') return;
    this.remove(key);
    this.bus.publish('call.ended', { callerId: call.callerId, calleeId: call.calleeId, reason: 'timeout' });
    this.bus.publish('call.ringTimeout', { callerId: call.callerId, calleeId: call.calleeId });
  }

  private remove(key: string): Call | undefined {
    const call = this.calls.get(key);
    if (!call) return undefined;
    clearTimeout(call.timer);
    this.calls.delete(key);
    this.unindex(call.callerId, key);
    this.unindex(call.calleeId, key);
    return call;
  }

  private index(id: string, key: string): void {
    let keys = this.bySocket.get(id);
    if (!keys) this.bySocket.set(id, (keys = new Set()));
    keys.add(key);
  }

  private unindex(id: string, key: string): void {
    const keys = this.bySocket.get(id);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.bySocket.delete(id);
  }
}
