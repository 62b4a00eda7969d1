/** Types for fuzz-lib.mjs, for the jest suite (test/fuzz.e2e-spec.ts). */
export declare const CORE_EVENTS: string[];
export declare const COMPAT_EVENTS: string[];
export declare const V11_EVENTS: string[];
export declare const PROTOCOL_CODES: Set<string>;
export declare const FUZZ_KEYS: string[];

export interface FuzzReport {
  events: number;
  emits: number;
  raw: number;
  malformed: number;
  acked: number;
  ignored: number;
  codes: Record<string, number>;
  drops: { allowed: number; unexpected: number };
  reconnects: number;
  exceptions: number;
  problems: string[];
  slowest: Record<string, number>;
  durationMs: number;
}

export interface FuzzOptions {
  urls: string[];
  events: number;
  seed?: number;
  sockets?: number;
  frameLimit?: number;
  ackTimeoutMs?: number;
  log?: (line: string) => void;
}

export declare function runFuzz(options: FuzzOptions): Promise<FuzzReport>;
export declare function prng(seed: number): { next(): number; int(n: number): number; chance(p: number): boolean };
export declare function createGenerator(
  seed: number,
  frameLimit: number,
): {
  next(ctx: { ids(): string[]; peers(): string[] }): unknown;
};
