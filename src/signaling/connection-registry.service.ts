/**
 * Which socket ids are connected anywhere in the cluster: the capability check behind
 * NOT_FOUND for call targets. Asynchronous and transport-free, like every store.
 */
export abstract class ConnectionRegistryService {
  abstract add(id: string): Promise<void>;
  /**
   * Forgets the id; resolves to whether it was held. With `owner`, only when that node holds
   * it (the default in Redis is this node, so a socket recovered elsewhere stays).
   */
  abstract remove(id: string, owner?: string): Promise<boolean>;
  abstract has(id: string): Promise<boolean>;
}
