import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trackRequests } from './http-drain';

/** Waits until the server has the request (a fixed pause lost the race on a busy CI machine). */
async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ready(); i += 1) await new Promise((r) => setTimeout(r, 10));
  expect(ready()).toBe(true);
}

describe('trackRequests', () => {
  let server: Server;
  let url: string;

  beforeEach(async () => {
    server = createServer((req, res) => {
      const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
      setTimeout(() => res.end('done'), ms).unref();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('answers the requests being served before it resolves, and takes no new connections', async () => {
    const requests = trackRequests(server);
    const slow = fetch(`${url}/?ms=300`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await until(() => requests.inFlight === 1);
    const started = Date.now();
    await requests.drain(5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(await slow).toEqual({ status: 200, body: 'done' });
    await expect(fetch(`${url}/`, { signal: AbortSignal.timeout(1_000) })).rejects.toThrow();
  });

  it('gives up after the grace period', async () => {
    const requests = trackRequests(server);
    const hung = fetch(`${url}/?ms=3000`).catch(() => undefined);
    await until(() => requests.inFlight === 1);
    const started = Date.now();
    await requests.drain(200);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(requests.inFlight).toBe(1);
    server.closeAllConnections();
    await hung;
  });
});
