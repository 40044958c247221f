import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { EhrClient } from '@app/clients';
import { JwksServer, makeTestKey, signToken, type TestKey } from '../support/ehr-tokens';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness';
import { queryRows } from '../support/postgres';

const ISS = 'https://ehr-edge.example.test';
/** The harness's peer address: the one trusted proxy here. Other loopback addresses are ordinary clients. */
const PROXY = '127.0.0.1';
const UNTRUSTED = '127.0.0.2';
const BURST = 5;

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly requestId: string;
}

type AuditRow = {
  readonly action: string;
  readonly request_id: string | null;
  readonly detail: { reason: string; source: string; path: string; count: number; aggregated?: boolean };
};

/**
 * Finding 2 of issue 14 (edge limits before authentication), against a real gateway, Postgres and JWKS endpoint:
 * a per-source limit that answers before any token work, X-Forwarded-For believed only from a trusted proxy, a
 * per-source connection cap, slow-header clients cut off, and refusals audited as a few counted events.
 */
describe('gateway: limits before authentication', () => {
  let gw: GatewayHarness;
  let jwks: JwksServer;
  let key: TestKey;

  /** One request from `localAddress`, optionally as a proxy forwarding for `forwardedFor`; no connection reuse. */
  function call(
    path: string,
    opts: { localAddress?: string; forwardedFor?: string; token?: string; method?: string } = {},
  ): Promise<Answer> {
    const requestId = `edge-e2e-${randomUUID()}`;
    const url = new URL(`${gw.url}${path}`);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path,
          method: opts.method ?? 'GET',
          agent: false,
          localAddress: opts.localAddress ?? PROXY,
          headers: {
            'x-request-id': requestId,
            ...(opts.forwardedFor ? { 'x-forwarded-for': opts.forwardedFor } : {}),
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString(),
              headers: res.headers,
              requestId,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  const refusalsFrom = (source: string) =>
    queryRows<AuditRow>(
      gw.db.url,
      `SELECT action, request_id, detail FROM audit_events
        WHERE outcome = 'refused' AND detail->>'source' = $1 ORDER BY id`,
      [source],
    );

  /** A token whose kid the client's JWKS does not hold: verifying it costs a JWKS fetch every time. */
  const unknownKidToken = () => signToken(key, { issuer: ISS, audience: `${gw.publicBaseUrl}/cds-services` });

  beforeAll(async () => {
    key = await makeTestKey('ES384');
    jwks = await new JwksServer().start();
    const other = await makeTestKey('ES384');
    const client: EhrClient = {
      id: 'ehr-edge',
      issuer: ISS,
      tenant: 'hospital-e',
      jwksUrl: jwks.publish('/edge/jwks.json', [other.publicJwk]),
      allowedJku: [],
      services: ['*'],
      fhirBaseUrls: [],
    };
    gw = await startGatewayHarness({
      clients: [client],
      env: {
        EDGE_TRUSTED_PROXIES: PROXY,
        EDGE_RATE_LIMIT_PER_SECOND: '0.001',
        EDGE_RATE_LIMIT_BURST: String(BURST),
        EDGE_MAX_CONNECTIONS_PER_SOURCE: '3',
        // Long windows: aggregates are written only when the gateway shuts down (the last test).
        EDGE_REFUSAL_WINDOW_MS: '600000',
        HTTP_HEADERS_TIMEOUT_MS: '1000',
        HTTP_REQUEST_TIMEOUT_MS: '2000',
        JWKS_COOLDOWN_MS: '0',
      },
    });
  });

  afterAll(async () => {
    await gw?.stop();
    await jwks?.close();
  });

  it('answers a source over its limit 429 with Retry-After before any token work; other sources unaffected', async () => {
    const source = '198.51.100.1';
    const statuses: number[] = [];
    const fetches: number[] = [];
    let limited: Answer | undefined;
    for (let i = 0; i < BURST + 3; i++) {
      const before = jwks.fetches;
      const res = await call('/cds-services', { forwardedFor: source, token: await unknownKidToken() });
      statuses.push(res.status);
      fetches.push(jwks.fetches - before);
      if (res.status === 429) limited ??= res;
    }
    expect(statuses).toEqual([...Array<number>(BURST).fill(401), 429, 429, 429]);
    // Each verified token cost a JWKS fetch (unknown kid); the refused ones cost nothing.
    expect(fetches.slice(0, BURST).every((n) => n >= 1)).toBe(true);
    expect(fetches.slice(BURST)).toEqual([0, 0, 0]);
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited!.headers['x-request-id']).toBe(limited!.requestId);
    expect(JSON.parse(limited!.text)).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'throttled', diagnostics: 'source_rate_limited' }],
    });
    // Another client behind the same proxy still gets its own answer.
    expect((await call('/cds-services', { forwardedFor: '198.51.100.2' })).status).toBe(401);
    // The first refusal of each kind is audited at once, with its request id and the source.
    const rows = await refusalsFrom(source);
    expect(rows.map((r) => [r.action, r.detail.reason, r.detail.count])).toEqual([
      ['auth.refused', 'unknown_kid', 1],
      ['request.refused', 'source_rate_limited', 1],
    ]);
    expect(rows[1]!.request_id).toBe(limited!.requestId);
  });

  it('believes X-Forwarded-For only from a trusted proxy: a client cannot mint fresh sources', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < BURST + 2; i++) {
      const res = await call('/cds-services', { localAddress: UNTRUSTED, forwardedFor: `203.0.113.${i + 1}` });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([...Array<number>(BURST).fill(401), 429, 429]);
    expect((await refusalsFrom(UNTRUSTED)).map((r) => r.detail.reason)).toEqual([
      'missing_token',
      'source_rate_limited',
    ]);
    expect(await refusalsFrom('203.0.113.1')).toEqual([]);
  });

  it('closes connections past the per-source cap at once; a trusted proxy is not capped', async () => {
    const open = (localAddress: string) =>
      new Promise<Socket>((resolve, reject) => {
        const { hostname, port } = new URL(gw.url);
        const s = connect({ host: hostname, port: Number(port), localAddress }, () => resolve(s));
        s.once('error', reject);
      });
    const closed = (s: Socket) => new Promise<void>((resolve) => s.once('close', () => resolve()));
    const held = await Promise.all([open(UNTRUSTED), open(UNTRUSTED), open(UNTRUSTED)]);
    const proxied = await Promise.all(Array.from({ length: 5 }, () => open(PROXY)));
    try {
      const fourth = await open(UNTRUSTED);
      await closed(fourth); // closed by the gateway, without an answer
      expect(fourth.bytesRead).toBe(0);
      // The capped source's open connections and the proxy's still work.
      for (const s of [held[0]!, proxied[4]!]) {
        const answer = new Promise<string>((resolve) => s.once('data', (d: Buffer) => resolve(d.toString())));
        s.write('GET /cds-services HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        expect(await answer).toMatch(/^HTTP\/1\.1 (401|429) /);
      }
    } finally {
      for (const s of [...held, ...proxied]) s.destroy();
    }
  });

  it('cuts off a client that sends its headers slowly (slowloris) with 408', async () => {
    const { hostname, port } = new URL(gw.url);
    const s = connect({ host: hostname, port: Number(port), localAddress: PROXY });
    let sent = 0;
    const drip = setInterval(() => {
      if (s.writable) s.write(`x-slow-${sent++}: y\r\n`);
    }, 100);
    s.write('GET /cds-services HTTP/1.1\r\nHost: x\r\n');
    try {
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        s.on('data', (d: Buffer) => {
          text += d.toString();
          clearInterval(drip);
        });
        // The server closes after its 408; a header line the drip wrote in between meets a closed socket and the
        // kernel answers it with a reset, which surfaces here as ECONNRESET after the 408 was read. The answer is
        // what was read before the socket ended, however it ended.
        s.once('error', () => resolve(text));
        s.once('close', () => resolve(text));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      // The client was still sending headers when it was cut off: the request never completed.
      expect(sent).toBeGreaterThan(0);
    } finally {
      clearInterval(drip);
      s.destroy();
    }
  });

  // Last: it shuts the gateway down.
  it('audits 200 refused 8 KB paths from one source as a few counted events, paths truncated, none lost at shutdown', async () => {
    const source = '198.51.100.3';
    const longPath = `/cds-services/${'a'.repeat(8 * 1024)}`;
    const statuses = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      const res = await call(longPath, { forwardedFor: source, method: 'POST' });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: BURST, 429: 200 - BURST });
    // While the gateway runs: one event per kind of refusal, the rest counted in memory.
    expect(await refusalsFrom(source)).toHaveLength(2);

    await gw.closeGateway();
    const rows = await refusalsFrom(source);
    expect(rows.map((r) => [r.detail.reason, r.detail.count, r.detail.aggregated ?? false])).toEqual([
      ['missing_token', 1, false],
      ['source_rate_limited', 1, false],
      ['missing_token', BURST - 1, true],
      ['source_rate_limited', 200 - BURST - 1, true],
    ]);
    expect(rows.reduce((n, r) => n + r.detail.count, 0)).toBe(200);
    for (const r of rows) {
      expect(r.detail.path.length).toBe(256);
      expect(longPath.startsWith(r.detail.path)).toBe(true);
    }
    // Aggregates name no single request.
    expect(rows.filter((r) => r.detail.aggregated).every((r) => r.request_id === null)).toBe(true);
  });
});
