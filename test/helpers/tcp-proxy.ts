/**
 * A TCP proxy for partition tests: the nodes talk to Redis through it, and `partition()`
 * makes it stop forwarding bytes in both directions while every connection stays open (what
 * a network partition looks like to both ends: no error, no close, just silence); `heal()`
 * forwards again, including whatever each side sent meanwhile, as TCP would once the
 * network is back. New connections during a partition are accepted and stay silent.
 */
import { createServer, connect as netConnect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** `redis://127.0.0.1:<port>` for a Redis target. */
  url: string;
  port: number;
  partitioned: boolean;
  partition(): void;
  heal(): void;
  /** Connections currently open through the proxy. */
  connections(): number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let partitioned = false;

  const setFlow = (pair: Pair) => {
    for (const s of [pair.client, pair.upstream]) {
      if (partitioned) s.pause();
      else s.resume();
    }
  };

  const server: Server = createServer((client) => {
    const upstream = netConnect({ host: target.host, port: target.port });
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // Not pipe(): a paused source must simply stop, with no buffering of our own.
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => client.write(d));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('end', end);
      s.on('close', end);
      s.on('error', end);
    }
    setFlow(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get partitioned() {
      return partitioned;
    },
    partition() {
      partitioned = true;
      for (const p of pairs) setFlow(p);
    },
    heal() {
      partitioned = false;
      for (const p of pairs) setFlow(p);
    },
    connections: () => pairs.size,
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
