/**
 * The lobby of one-page call apps (compatibility events): socket id → display name,
 * cluster-wide, transport-free.
 */
export abstract class LobbyStoreService {
  /** Puts the socket in the lobby under this name (or renames it); resolves to true when it was new. */
  abstract register(id: string, name: string): Promise<boolean>;
  /** Takes the socket out; resolves to its name, or undefined when it was not in the lobby. */
  /** With `owner`, only when that node still owns the entry (cleaning up after a node). */
  abstract unregister(id: string, owner?: string): Promise<string | undefined>;
  abstract nameOf(id: string): Promise<string | undefined>;
  /** Every lobby socket id mapped to its name. */
  abstract list(): Promise<Record<string, string>>;
}
