import { Injectable } from '@nestjs/common';
import { LobbyStoreService } from './lobby-store.service.js';

@Injectable()
export class InMemoryLobbyStoreService extends LobbyStoreService {
  private readonly names = new Map<string, string>();

  async register(id: string, name: string): Promise<boolean> {
    const isNew = !this.names.has(id);
    this.names.set(id, name);
    return isNew;
  }

  async unregister(id: string): Promise<string | undefined> {
    const name = this.names.get(id);
    this.names.delete(id);
    return name;
  }

  async nameOf(id: string): Promise<string | undefined> {
    return this.names.get(id);
  }

  async list(): Promise<Record<string, string>> {
    return Object.fromEntries(this.names);
  }
}
