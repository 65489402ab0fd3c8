// A TCP proxy on 127.0.0.1 that adds latency: every chunk, in each direction, is forwarded
// `delayMs` after it arrived, in order, so a 10 ms delay per direction makes a 20 ms round trip
// for whatever runs over it (TLS handshakes, HTTP requests). The connection to the target is
// opened at once; the client's TCP handshake itself is not delayed (on loopback it never is).
// Used by scripts/bench-pilot-download.sh to compare downloaders on a realistic round trip.

import { createConnection, createServer, type AddressInfo, type Socket } from "node:net";

export interface LatencyProxy {
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Forwards `from` to `to`, each chunk (and the end) delayed by `delayMs`, order preserved. */
function delayedPipe(from: Socket, to: Socket, delayMs: number): void {
  const queue: { due: number; chunk: Buffer | null }[] = [];
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    timer = null;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.due <= now + 0.5) {
      const { chunk } = queue.shift()!;
      if (to.destroyed) return;
      if (chunk === null) to.end();
      else to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0]!.due - performance.now()));
  };
  const push = (chunk: Buffer | null) => {
    queue.push({ due: performance.now() + delayMs, chunk });
    if (!timer) timer = setTimeout(flush, delayMs);
  };
  from.on("data", (c: Buffer) => push(c));
  from.on("end", () => push(null));
}

export async function startLatencyProxy(o: { targetPort: number; targetHost?: string; delayMs: number }): Promise<LatencyProxy> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  };
  const server = createServer({ allowHalfOpen: true }, (client) => {
    connections += 1;
    client.setNoDelay(true);
    const upstream = createConnection({ port: o.targetPort, host: o.targetHost ?? "127.0.0.1", allowHalfOpen: true });
    upstream.setNoDelay(true);
    track(client);
    track(upstream);
    delayedPipe(client, upstream, o.delayMs);
    delayedPipe(upstream, client, o.delayMs);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", kill);
    upstream.on("error", kill);
    client.on("close", () => setTimeout(() => upstream.destroy(), o.delayMs + 5));
    upstream.on("close", () => setTimeout(() => client.destroy(), o.delayMs + 5));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
