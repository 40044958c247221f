import { randomUUID } from 'node:crypto';
import { JwksServer, makeTestKey, signToken, type TestKey } from '../support/ehr-tokens';
import { startGatewayHarness, type GatewayHarness } from '../support/gateway-harness';
import { queryRows } from '../support/postgres';

const STAFF_ISS = 'https://idp.example.test/realms/meditron';
const STAFF_AUD = 'meditron-gateway';
const CONSOLE_ORIGIN = 'https://console.example.test';

/** Staff OIDC auth with roles on the admin API, the OpenAPI description, security headers and CORS. */
describe('gateway: staff APIs, docs and browser-facing headers', () => {
  let gw: GatewayHarness;
  let idp: JwksServer;
  let staffKey: TestKey;

  const staffToken = (
    claims: Record<string, unknown>,
    o: { issuer?: string; audience?: string; typ?: string; expIn?: number } = {},
  ) =>
    signToken(staffKey, {
      issuer: o.issuer ?? STAFF_ISS,
      audience: o.audience ?? STAFF_AUD,
      extraClaims: { sub: 'staff-1', ...claims },
      ...(o.typ ? { typ: o.typ } : {}),
      ...(o.expIn ? { expIn: o.expIn } : {}),
    });

  async function listClients(token?: string): Promise<{ status: number; text: string; requestId: string }> {
    const requestId = `gw-staff-${randomUUID()}`;
    const res = await fetch(`${gw.url}/admin/clients`, {
      headers: { 'x-request-id': requestId, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    return { status: res.status, text: await res.text(), requestId };
  }

  beforeAll(async () => {
    staffKey = await makeTestKey('RS256');
    idp = await new JwksServer().start();
    const jwksUrl = idp.publish('/certs', [staffKey.publicJwk]);
    const ehrKey = await makeTestKey('ES384');
    gw = await startGatewayHarness({
      clients: [
        {
          id: 'ehr-a',
          issuer: 'https://ehr-a.example.test',
          tenant: 'hospital-a',
          jwks: { keys: [{ ...ehrKey.publicJwk }] },
          allowedJku: [],
          services: ['meditron-patient-view'],
          fhirBaseUrls: ['https://fhir.ehr-a.example.test/R4'],
        },
      ],
      env: {
        STAFF_OIDC_ISSUER: STAFF_ISS,
        STAFF_OIDC_JWKS_URL: jwksUrl,
        STAFF_OIDC_AUDIENCE: STAFF_AUD,
        CORS_ORIGINS: CONSOLE_ORIGIN,
      },
    });
  });

  afterAll(async () => {
    await gw?.stop();
    await idp?.close();
  });

  it('lists registered clients, without keys, to an admin (roles or Keycloak realm_access.roles)', async () => {
    for (const claims of [{ roles: ['admin'] }, { realm_access: { roles: ['offline_access', 'admin'] } }]) {
      const res = await listClients(await staffToken(claims));
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual({
        clients: [
          {
            id: 'ehr-a',
            issuer: 'https://ehr-a.example.test',
            tenant: 'hospital-a',
            services: ['meditron-patient-view'],
            fhirBaseUrls: ['https://fhir.ehr-a.example.test/R4'],
            keySource: 'inline-jwks',
            jwksUrl: null,
            kids: [expect.stringMatching(/^es384-/)],
            allowedJku: [],
            rateLimit: null,
          },
        ],
      });
      const audit = await queryRows<{ action: string; actor: string }>(
        gw.db.url,
        `SELECT action, actor FROM audit_events WHERE request_id = $1`,
        [res.requestId],
      );
      expect(audit).toEqual([{ action: 'admin.clients.listed', actor: 'staff-1' }]);
    }
  });

  it('answers 403 to a staff token without the admin role, and audits the refusal', async () => {
    const res = await listClients(await staffToken({ roles: ['compliance'] }));
    expect(res.status).toBe(403);
    expect(res.text).toBe('');
    const audit = await queryRows<{ action: string; outcome: string; actor: string; detail: { reason: string } }>(
      gw.db.url,
      `SELECT action, outcome, actor, detail FROM audit_events WHERE request_id = $1`,
      [res.requestId],
    );
    expect(audit).toEqual([
      {
        action: 'auth.refused',
        outcome: 'refused',
        actor: 'staff-1',
        detail: expect.objectContaining({ reason: 'missing_role' }),
      },
    ]);
  });

  it('answers a bare 401 without a token, or with a token from another issuer or for another audience', async () => {
    const tokens = [
      undefined,
      await staffToken({ roles: ['admin'] }, { issuer: 'https://other-idp.example.test' }),
      await staffToken({ roles: ['admin'] }, { audience: 'someone-else' }),
    ];
    for (const token of tokens) {
      const res = await listClients(token);
      expect(res.status).toBe(401);
      expect(res.text).toBe('');
    }
  });

  it('refuses a staff token living past STAFF_TOKEN_MAX_LIFETIME_S, or of another typ, and audits why', async () => {
    const ok = [
      await staffToken({ roles: ['admin'] }, { expIn: 3500 }),
      await staffToken({ roles: ['admin'] }, { typ: 'at+jwt' }),
      await staffToken({ roles: ['admin'] }, { typ: 'application/AT+JWT' }),
    ];
    for (const token of ok) expect((await listClients(token)).status).toBe(200);
    const refused: Array<[string, string]> = [
      [await staffToken({ roles: ['admin'] }, { expIn: 8 * 3600 }), 'lifetime_too_long'],
      // An ID token (or any other JWT) from the same IdP is not an access token.
      [await staffToken({ roles: ['admin'] }, { typ: 'id_token+jwt' }), 'wrong_token_type'],
    ];
    for (const [token, reason] of refused) {
      const res = await listClients(token);
      expect({ reason, status: res.status }).toEqual({ reason, status: 401 });
      const audit = await queryRows<{ detail: { reason: string } }>(
        gw.db.url,
        `SELECT detail FROM audit_events WHERE request_id = $1`,
        [res.requestId],
      );
      expect(audit.map((a) => a.detail.reason)).toEqual([reason]);
    }
  });

  it('describes every public endpoint and both security schemes at /docs', async () => {
    const res = await fetch(`${gw.url}/docs/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { securitySchemes: Record<string, { scheme: string }> };
    };
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/admin/clients',
        '/admin/clients/{id}',
        '/cds-services',
        '/cds-services/{id}',
        '/cds-services/{id}/feedback',
        '/health/live',
        '/health/ready',
      ].sort(),
    );
    expect(doc.paths['/cds-services/{id}']!['post']!.security).toEqual([{ 'cds-client-jwt': [] }]);
    expect(doc.paths['/admin/clients']!['get']!.security).toEqual([{ 'staff-oidc': [] }]);
    expect(doc.paths['/admin/clients/{id}']!['put']!.security).toEqual([{ 'staff-oidc': [] }]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['cds-client-jwt', 'staff-oidc']);
    const ui = await fetch(`${gw.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  it('sends security headers, and CORS only to the configured origins', async () => {
    const preflight = (origin: string) =>
      fetch(`${gw.url}/cds-services/meditron-patient-view`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const allowed = await preflight(CONSOLE_ORIGIN);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(allowed.headers.get('access-control-allow-methods')).toBe('GET,POST,OPTIONS');
    const other = await preflight('https://evil.example.test');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const live = await fetch(`${gw.url}/health/live`);
    expect(live.headers.get('x-content-type-options')).toBe('nosniff');
    expect(live.headers.get('strict-transport-security')).toMatch(/max-age=/);
    expect(live.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(live.headers.get('x-powered-by')).toBeNull();
  });
});
