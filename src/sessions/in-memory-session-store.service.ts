import { Injectable } from '@nestjs/common';
import { SessionStoreService } from './session-store.service.js';

@Injectable()
export class InMemorySessionStoreService extends SessionStoreService {
  private readonly held = new Set<string>();

  async hold(id: string): Promise<void> {
    this.held.add(id);
  }

  async release(id: string): Promise<boolean> {
    return this.held.delete(id);
  }

  async adopt(): Promise<void> {}
}
