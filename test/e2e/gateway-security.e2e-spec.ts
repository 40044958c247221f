import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { EhrClient } from '@app/clients';
import {
  hmacWithPublicKey,
  JwksServer,
  makeTestKey,
  signToken,
  tamperPayload,
  unsignedToken,
  type TestKey,
} from '../support/ehr-tokens';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness';
import { forwardedCaller } from '../support/internal-call';
import { TEST_INTERNAL_TOKEN_SECRET } from '../support/stack-env';
import { queryRows } from '../support/postgres';

const SERVICE = 'meditron-patient-view';
const HOOK_PATH = `/cds-services/${SERVICE}`;
const ES_ISS = 'https://ehr-es.example.test';
const RS_ISS = 'https://ehr-rs.example.test';
const FLOOD_ISS = 'https://ehr-flood.example.test';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const HOOK_BODY = JSON.stringify({
  hook: 'patient-view',
  hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
  context: { userId: 'Practitioner/1', patientId: '1' },
});

/** The EHR JWT checks, body limits and rate limit, against a real gateway, Postgres and JWKS endpoint. */
describe('gateway: the secure edge for EHR clients', () => {
  let gw: GatewayHarness;
  let jwks: JwksServer;
  let es: TestKey;
  let rs: TestKey;
  let flood: TestKey;
  let rsJwksUrl: string;

  /** Where the attack being run comes from (sent as X-Forwarded-For); unset: the test process itself. */
  let attackSource: string | undefined;

  const aud = (path: string) => `${gw.publicBaseUrl}${path}`;
  const esToken = (path = HOOK_PATH) => signToken(es, { issuer: ES_ISS, audience: aud(path) });

  async function call(
    path: string,
    init: { token?: string; body?: string; method?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; text: string; headers: Headers; requestId: string }> {
    const requestId = `gw-e2e-${randomUUID()}`;
    const res = await fetch(`${gw.url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        'x-request-id': requestId,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(attackSource ? { 'x-forwarded-for': attackSource } : {}),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    return { status: res.status, text: await res.text(), headers: res.headers, requestId };
  }

  async function auditFor(requestId: string) {
    return queryRows<{ action: string; outcome: string; client_id: string | null; detail: Record<string, unknown> }>(
      gw.db.url,
      `SELECT action, outcome, client_id, detail FROM audit_events WHERE request_id = $1 ORDER BY id`,
      [requestId],
    );
  }

  /** The client (and request id) the gateway's signed per-call token names on a forwarded call. */
  async function forwardedAs(seen: { headers: IncomingHttpHeaders; method: string; path: string }) {
    return forwardedCaller(TEST_INTERNAL_TOKEN_SECRET, seen.headers, seen.method, seen.path);
  }

  /** A valid call still goes through, and cds-hooks learns the verified client id. */
  async function expectStillServing(): Promise<void> {
    const before = gw.upstream.calls.length;
    const ok = await call(HOOK_PATH, { token: await esToken(), body: HOOK_BODY });
    expect(ok.status).toBe(200);
    expect(gw.upstream.calls).toHaveLength(before + 1);
    expect((await forwardedAs(gw.upstream.calls.at(-1)!)).clientId).toBe('ehr-es');
  }

  beforeAll(async () => {
    [es, rs, flood] = await Promise.all([makeTestKey('ES384'), makeTestKey('RS384'), makeTestKey('ES384')]);
    jwks = await new JwksServer().start();
    rsJwksUrl = jwks.publish('/rs/jwks.json', [rs.publicJwk]);
    const clients: EhrClient[] = [
      {
        id: 'ehr-es',
        issuer: ES_ISS,
        tenant: 'hospital-a',
        jwks: { keys: [{ ...es.publicJwk }] },
        allowedJku: [],
        services: [SERVICE],
        fhirBaseUrls: ['https://fhir.ehr-es.example.test/R4'],
      },
      {
        id: 'ehr-rs',
        issuer: RS_ISS,
        tenant: 'hospital-b',
        jwksUrl: rsJwksUrl,
        allowedJku: [rsJwksUrl],
        services: ['*'],
        fhirBaseUrls: [],
      },
      {
        id: 'ehr-flood',
        issuer: FLOOD_ISS,
        tenant: 'hospital-c',
        jwks: { keys: [{ ...flood.publicJwk }] },
        allowedJku: [],
        services: ['*'],
        fhirBaseUrls: [],
        rateLimit: { perSecond: 0.2, burst: 3 },
      },
    ];
    gw = await startGatewayHarness({
      clients,
      env: {
        BODY_LIMIT: '64kb',
        JSON_MAX_ARRAY_LENGTH: '1000',
        JWKS_COOLDOWN_MS: '0',
        REPLAY_PURGE_MS: '200',
        // The test client is a trusted proxy: each attack below comes from a source of its own (X-Forwarded-For), so it
        // is the first refusal of its kind from that source and audited by its own event under its request id (a
        // repeat from one source is counted into an aggregate: gateway-edge-limits.e2e-spec.ts).
        EDGE_TRUSTED_PROXIES: 'loopback',
      },
    });
  });

  afterAll(async () => {
    await gw?.stop();
    await jwks?.close();
  });

  describe('happy paths', () => {
    it('accepts an ES384 token (inline JWKS) and forwards with the verified client id, request id and trace', async () => {
      const res = await call(HOOK_PATH, {
        token: await esToken(),
        body: HOOK_BODY,
        // A caller cannot pick who cds-hooks thinks it is.
        headers: { 'x-meditron-client-id': 'ehr-rs', traceparent: TRACEPARENT, 'x-forwarded-for': '10.0.0.1' },
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual({ cards: [] });
      const seen = gw.upstream.calls.at(-1)!;
      expect(seen).toMatchObject({ method: 'POST', path: HOOK_PATH });
      expect(JSON.parse(seen.body)).toEqual(JSON.parse(HOOK_BODY));
      expect(seen.headers['x-meditron-client-id']).toBeUndefined();
      expect(await forwardedAs(seen)).toMatchObject({
        clientId: 'ehr-es',
        requestId: res.requestId,
        serviceId: HOOK_PATH.split('/')[2],
      });
      expect(seen.headers['x-request-id']).toBe(res.requestId);
      expect(seen.headers['traceparent']).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
      expect(seen.headers['authorization']).toBeUndefined();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    });

    it('accepts RS384 tokens from the client JWKS URL for discovery and feedback, and through an allow-listed jku', async () => {
      const discovery = await call('/cds-services', {
        token: await signToken(rs, { issuer: RS_ISS, audience: aud('/cds-services') }),
      });
      expect(discovery.status).toBe(200);
      expect(gw.upstream.calls.at(-1)).toMatchObject({ method: 'GET', path: '/cds-services' });
      const feedbackPath = `${HOOK_PATH}/feedback`;
      const feedback = await call(feedbackPath, {
        token: await signToken(rs, { issuer: RS_ISS, audience: [aud(feedbackPath)], jku: rsJwksUrl }),
        body: JSON.stringify({ feedback: [] }),
      });
      expect(feedback.status).toBe(200);
      expect((await forwardedAs(gw.upstream.calls.at(-1)!)).clientId).toBe('ehr-rs');
    });

    it('takes a discovery URL typed with a trailing slash when aud names exactly that URL, and only then', async () => {
      const withSlash = await call('/cds-services/', { token: await esToken('/cds-services/') });
      expect(withSlash.status).toBe(200);
      expect(gw.upstream.calls.at(-1)).toMatchObject({ method: 'GET', path: '/cds-services' });
      // aud is the URL invoked, exactly: not the same URL without its slash, nor the slash added to another one.
      expect((await call('/cds-services/', { token: await esToken('/cds-services') })).status).toBe(401);
      expect((await call('/cds-services', { token: await esToken('/cds-services/') })).status).toBe(401);
    });

    it('picks up a rotated key published at the JWKS URL, and drops the retired one', async () => {
      const next = await makeTestKey('RS384');
      jwks.publish('/rs/jwks.json', [next.publicJwk]);
      const fetchesBefore = jwks.fetches;
      const rotated = await call('/cds-services', {
        token: await signToken(next, { issuer: RS_ISS, audience: aud('/cds-services') }),
      });
      expect(rotated.status).toBe(200);
      expect(jwks.fetches).toBeGreaterThan(fetchesBefore);
      const retired = await call('/cds-services', {
        token: await signToken(rs, { issuer: RS_ISS, audience: aud('/cds-services') }),
      });
      expect(retired.status).toBe(401);
      jwks.publish('/rs/jwks.json', [rs.publicJwk, next.publicJwk]);
    });
  });

  describe('attack corpus: each refused with the right status, only the refusal audited, cds-hooks untouched', () => {
    type Attack = {
      readonly name: string;
      readonly status: number;
      readonly action: 'auth.refused' | 'request.refused';
      readonly reason: string;
      readonly send: () => Promise<{ status: number; text: string; headers: Headers; requestId: string }>;
    };
    const attacks: Attack[] = [
      {
        name: 'alg: none',
        status: 401,
        action: 'auth.refused',
        reason: 'alg_not_allowed',
        send: async () =>
          call(HOOK_PATH, {
            token: unsignedToken({ issuer: ES_ISS, audience: aud(HOOK_PATH) }, es.kid),
            body: HOOK_BODY,
          }),
      },
      {
        name: 'HS256 signed with the public key',
        status: 401,
        action: 'auth.refused',
        reason: 'alg_not_allowed',
        send: async () =>
          call(HOOK_PATH, {
            token: hmacWithPublicKey(rs, { issuer: RS_ISS, audience: aud(HOOK_PATH) }),
            body: HOOK_BODY,
          }),
      },
      {
        name: 'expired',
        status: 401,
        action: 'auth.refused',
        reason: 'expired',
        send: async () =>
          call(HOOK_PATH, {
            token: await signToken(es, { issuer: ES_ISS, audience: aud(HOOK_PATH), expIn: -600, iatIn: -900 }),
            body: HOOK_BODY,
          }),
      },
      {
        name: 'iat in the future',
        status: 401,
        action: 'auth.refused',
        reason: 'iat_in_future',
        send: async () =>
          call(HOOK_PATH, {
            token: await signToken(es, { issuer: ES_ISS, audience: aud(HOOK_PATH), iatIn: 600, expIn: 900 }),
            body: HOOK_BODY,
          }),
      },
      {
        name: 'wrong aud (another endpoint)',
        status: 401,
        action: 'auth.refused',
        reason: 'wrong_audience',
        send: async () => call(HOOK_PATH, { token: await esToken('/cds-services/other-service'), body: HOOK_BODY }),
      },
      {
        name: 'unknown iss',
        status: 401,
        action: 'auth.refused',
        reason: 'unknown_issuer',
        send: async () =>
          call(HOOK_PATH, {
            token: await signToken(es, { issuer: 'https://evil.example.test', audience: aud(HOOK_PATH) }),
            body: HOOK_BODY,
          }),
      },
      {
        name: 'jku not allow-listed',
        status: 401,
        action: 'auth.refused',
        reason: 'jku_not_allowed',
        send: async () => {
          const evil = await makeTestKey('RS384');
          const evilJku = jwks.publish('/evil/jwks.json', [evil.publicJwk]);
          return call(HOOK_PATH, {
            token: await signToken(evil, { issuer: RS_ISS, audience: aud(HOOK_PATH), jku: evilJku }),
            body: HOOK_BODY,
          });
        },
      },
      {
        name: 'kid unknown',
        status: 401,
        action: 'auth.refused',
        reason: 'unknown_kid',
        send: async () =>
          call(HOOK_PATH, {
            token: await signToken(es, { issuer: ES_ISS, audience: aud(HOOK_PATH), kid: 'no-such-kid' }),
            body: HOOK_BODY,
          }),
      },
      {
        name: 'tampered payload',
        status: 401,
        action: 'auth.refused',
        reason: 'bad_signature',
        send: async () =>
          call(HOOK_PATH, {
            token: tamperPayload(await esToken(), (p) => ({ ...p, tenant: 'someone-else' })),
            body: HOOK_BODY,
          }),
      },
      {
        name: 'missing token',
        status: 401,
        action: 'auth.refused',
        reason: 'missing_token',
        send: async () => call(HOOK_PATH, { body: HOOK_BODY }),
      },
      {
        name: 'oversized body',
        status: 413,
        action: 'request.refused',
        reason: 'body_too_large',
        send: async () =>
          call(HOOK_PATH, { token: await esToken(), body: JSON.stringify({ hook: 'x', pad: 'a'.repeat(100 * 1024) }) }),
      },
      {
        name: 'malformed JSON',
        status: 400,
        action: 'request.refused',
        reason: 'malformed_json',
        send: async () => call(HOOK_PATH, { token: await esToken(), body: '{"hook": "patient-view",' }),
      },
      {
        name: 'deeply nested JSON',
        status: 400,
        action: 'request.refused',
        reason: 'json_too_deep',
        send: async () =>
          call(HOOK_PATH, { token: await esToken(), body: `{"a":${'['.repeat(200)}${']'.repeat(200)}}` }),
      },
      {
        name: 'a huge array',
        status: 400,
        action: 'request.refused',
        reason: 'json_array_too_long',
        send: async () =>
          call(HOOK_PATH, { token: await esToken(), body: JSON.stringify({ prefetch: new Array(5000).fill(0) }) }),
      },
    ];

    it.each(attacks.map((a, i) => ({ ...a, source: `198.51.100.${i + 1}` })))('$name → $status', async (attack) => {
      const upstreamBefore = gw.upstream.calls.length;
      attackSource = attack.source;
      const res = await attack.send().finally(() => (attackSource = undefined));
      expect(res.status).toBe(attack.status);
      if (attack.status === 401) {
        expect(res.text).toBe('');
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
      expect(gw.upstream.calls).toHaveLength(upstreamBefore);
      const audit = await auditFor(res.requestId);
      expect(audit).toEqual([
        expect.objectContaining({
          action: attack.action,
          outcome: 'refused',
          detail: expect.objectContaining({ reason: attack.reason }),
        }),
      ]);
      // Reason code, where from, method, path and how many (the first of its window: 1): nothing from the token.
      expect(audit[0]!.detail).toEqual({
        reason: attack.reason,
        source: attack.source,
        method: 'POST',
        path: HOOK_PATH,
        count: 1,
      });
      await expectStillServing();
    });

    it('replayed jti → 401 on the second use', async () => {
      const token = await esToken();
      expect((await call(HOOK_PATH, { token, body: HOOK_BODY })).status).toBe(200);
      const upstreamBefore = gw.upstream.calls.length;
      const replay = await call(HOOK_PATH, { token, body: HOOK_BODY });
      expect(replay.status).toBe(401);
      expect(replay.text).toBe('');
      expect(gw.upstream.calls).toHaveLength(upstreamBefore);
      expect(await auditFor(replay.requestId)).toEqual([
        expect.objectContaining({
          action: 'auth.refused',
          client_id: 'ehr-es',
          detail: expect.objectContaining({ reason: 'replayed' }),
        }),
      ]);
      // Only a hash and an expiry are kept.
      const rows = await queryRows<{ jti_hash: string }>(gw.db.url, `SELECT jti_hash FROM jwt_replay`);
      expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.jti_hash))).toBe(true);
      // Expired rows are purged in the background.
      const stale = 'f'.repeat(64);
      await queryRows(
        gw.db.url,
        `INSERT INTO jwt_replay (jti_hash, expires_at) VALUES ($1, now() - interval '1 minute')`,
        [stale],
      );
      await new Promise((r) => setTimeout(r, 600));
      expect(await queryRows(gw.db.url, `SELECT 1 FROM jwt_replay WHERE jti_hash = $1`, [stale])).toEqual([]);
      await expectStillServing();
    });

    it('a service the client is not registered for → 403', async () => {
      const path = '/cds-services/meditron-order-sign';
      const res = await call(path, { token: await esToken(path), body: HOOK_BODY });
      expect(res.status).toBe(403);
      expect(res.text).toBe('');
      expect(await auditFor(res.requestId)).toEqual([
        expect.objectContaining({ detail: expect.objectContaining({ reason: 'service_not_allowed' }) }),
      ]);
    });

    it('a flood past the client rate limit → 429 with Retry-After, audited once, other clients unaffected', async () => {
      const statuses: number[] = [];
      const limited: Array<{ requestId: string; retryAfter: string | null }> = [];
      for (let i = 0; i < 6; i++) {
        const res = await call('/cds-services', {
          token: await signToken(flood, { issuer: FLOOD_ISS, audience: aud('/cds-services') }),
        });
        statuses.push(res.status);
        if (res.status === 429) limited.push({ requestId: res.requestId, retryAfter: res.headers.get('retry-after') });
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
      for (const l of limited) expect(Number(l.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(await auditFor(limited[0]!.requestId)).toEqual([
        expect.objectContaining({
          action: 'request.refused',
          client_id: 'ehr-flood',
          detail: expect.objectContaining({ reason: 'rate_limited' }),
        }),
      ]);
      expect(await auditFor(limited[1]!.requestId)).toEqual([]);
      await expectStillServing();
    });
  });
});
