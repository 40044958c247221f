import type { Server } from 'node:http';

export interface HttpDrain {
  /** Requests being served now. */
  readonly inFlight: number;
  /**
   * Stops taking connections and waits (at most `graceMs`) until every request being served has been answered;
   * responses given meanwhile close their connection. Then the app may close its writers and database.
   */
  drain(graceMs: number): Promise<void>;
}

/**
 * Graceful shutdown for the hook endpoint. Nest's `app.close()` runs the module destroy hooks (the audit writer
 * stops taking events, result waiters are released) before it closes the HTTP server, so a call still waiting for
 * its result when a replica is stopped would fail with 500 and its `hook.answered` event would be lost.
 */
export function trackRequests(server: Server): HttpDrain {
  let inFlight = 0;
  let draining = false;
  const idle: Array<() => void> = [];
  server.on('request', (_req, res) => {
    inFlight += 1;
    if (draining) res.setHeader('connection', 'close');
    res.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) for (const w of idle.splice(0)) w();
    });
  });
  return {
    get inFlight() {
      return inFlight;
    },
    async drain(graceMs) {
      draining = true;
      server.close();
      server.closeIdleConnections();
      if (inFlight === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => idle.push(r)),
        new Promise<void>((r) => (timer = setTimeout(r, graceMs))),
      ]);
      clearTimeout(timer);
    },
  };
}
