import { Injectable } from '@nestjs/common';
import { SessionStoreService } from './session-store.service.js';

@Injectable()
export class InMemorySessionStoreService extends SessionStoreService {
  /** Held socket id → the token of the drop that holds it. */
  private readonly held = new Map<string, string>();

  async hold(id: string, _windowMs: number, token: string): Promise<void> {
    this.held.set(id, token);
  }

  async release(id: string, token?: string): Promise<boolean> {
    const current = this.held.get(id);
    if (current === undefined || (token !== undefined && current !== token)) return false;
    this.held.delete(id);
    return true;
  }

  async adopt(): Promise<void> {}
}
