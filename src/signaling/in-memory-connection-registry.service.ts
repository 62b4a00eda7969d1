import { Injectable } from '@nestjs/common';
import { ConnectionRegistryService } from './connection-registry.service.js';

@Injectable()
export class InMemoryConnectionRegistryService extends ConnectionRegistryService {
  private readonly ids = new Set<string>();

  async add(id: string): Promise<void> {
    this.ids.add(id);
  }

  async remove(id: string, _owner?: string): Promise<boolean> {
    return this.ids.delete(id);
  }

  async has(id: string): Promise<boolean> {
    return this.ids.has(id);
  }
}
