// A few kept-alive connections for a burst of plain-HTTP requests to one server: Machine/Job
// Features are ~30 small files read at once, and a connection each costs more than the request
// where connections are dear (a slow VM: every connection is a guest TCP handshake; behind qemu's
// guestfwd, a process started on the host). Made for one burst and closed after it, so no idle
// connection is ever reused after the server may have dropped it. https:// ignores it (undici
// pools its own connections).

import { Agent } from "node:http";

export interface HttpPool {
  /** node:http's agent for plain-http.ts. */
  readonly agent: Agent;
  /** Closes every connection (idle or not). */
  close(): void;
}

/** At most `maxSockets` connections per server; requests beyond that wait for a free one. */
export function createHttpPool(maxSockets = 4): HttpPool {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return { agent, close: () => agent.destroy() };
}
