/**
 * Which socket ids are connected anywhere in the cluster: the capability check behind
 * NOT_FOUND for call targets. Asynchronous and transport-free, like every store.
 */
export abstract class ConnectionRegistryService {
  abstract add(id: string): Promise<void>;
  abstract remove(id: string): Promise<void>;
  abstract has(id: string): Promise<boolean>;
}
