import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { QueryFailedError } from 'typeorm';
import { AuthRefusal, CdsJwtVerifier, type VerifiedCdsCaller } from '@app/auth';
import { ClientRegistry, ClientRegistryCache, ehrClientSchema } from '@app/clients';
import { METRICS_REGISTRY } from '@app/observability';
import { EhrAuthGuard } from '../auth/ehr-auth.guard';
import { EdgeExceptionFilter } from '../edge/edge-exception.filter';
import { RefusalAggregator } from '../edge/refusal-aggregator';
import type { RefusalNotice } from '../edge/refusal-windows';
import { GatewayMetrics } from '../edge/gateway-metrics.service';
import { GATEWAY_CONFIG, loadGatewayConfig } from '../gateway.config';
import { ClientRateLimitGuard } from '../rate-limit/client-rate-limit.guard';
import { CdsHooksUpstream } from './cds-hooks-upstream.service';
import { CdsServicesController } from './cds-services.controller';
import { GatewayUrls } from './gateway-urls.service';
import { JsonBodyReader } from './json-body-reader.service';

const client = ehrClientSchema.parse({
  id: 'ehr-a',
  issuer: 'https://ehr-a.example.test',
  tenant: 'tenant-a',
  jwks: { keys: [] },
  services: ['meditron-patient-view'],
});

/**
 * The gateway's forwarding surface over HTTP with the real guards, body reader and error filter, and mocked
 * token verification, registry and upstream: auth, refusal auditing and body checks in milliseconds.
 */
describe('CdsServicesController over HTTP', () => {
  let app: NestExpressApplication;
  const registry = new Registry();
  let base = '';
  const refusals: RefusalNotice[] = [];
  const verify = jest.fn<Promise<VerifiedCdsCaller>, [string, string]>();
  const forward = jest.fn(async () => ({ status: 200, contentType: 'application/json', body: '{"cards":[]}' }));

  beforeAll(async () => {
    const config = loadGatewayConfig({
      PUBLIC_BASE_URL: 'https://cds.example.test',
      BODY_LIMIT: '1kb',
      JSON_MAX_ARRAY_LENGTH: '100',
      INTERNAL_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    });
    const moduleRef = await Test.createTestingModule({
      controllers: [CdsServicesController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: CdsJwtVerifier, useValue: { verify } },
        { provide: ClientRegistryCache, useValue: { current: () => new ClientRegistry([client]) } },
        { provide: RefusalAggregator, useValue: { record: async (e: RefusalNotice) => void refusals.push(e) } },
        { provide: CdsHooksUpstream, useValue: { forward } },
        GatewayUrls,
        JsonBodyReader,
        EhrAuthGuard,
        ClientRateLimitGuard,
        { provide: METRICS_REGISTRY, useValue: registry },
        GatewayMetrics,
        { provide: APP_FILTER, useClass: EdgeExceptionFilter },
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(() => app.close());

  beforeEach(() => {
    refusals.length = 0;
    verify.mockReset();
    forward.mockClear();
  });

  const post = (path: string, body: string, token: string | null = 'a.b.c') =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });

  it('forwards an authenticated call with its checked body as sent, verified against the audience of the path', async () => {
    verify.mockResolvedValue({ client, jti: 'j1', expiresAt: new Date(), tenantClaim: null });
    const res = await post('/cds-services/meditron-patient-view', '{ "hook": "patient-view" }');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ cards: [] });
    expect(verify).toHaveBeenCalledWith('a.b.c', 'https://cds.example.test/cds-services/meditron-patient-view');
    expect(forward).toHaveBeenCalledWith(
      'POST',
      '/cds-services/meditron-patient-view',
      '{ "hook": "patient-view" }',
      expect.objectContaining({ clientId: 'ehr-a', serviceId: 'meditron-patient-view' }),
    );
    expect(refusals).toEqual([]);
  });

  it('logs an unexpected database failure by class and SQLSTATE only, never its message', async () => {
    verify.mockResolvedValue({ client, jti: 'j1', expiresAt: new Date(), tenantClaim: null });
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const driverError = Object.assign(new Error('Key (mrn)=(MRN-445566) already exists'), { code: '23505' });
      forward.mockRejectedValueOnce(new QueryFailedError('INSERT ...', ['MRN-445566'], driverError));
      const res = await post('/cds-services/meditron-patient-view', '{"hook":"patient-view"}');
      expect(res.status).toBe(500);
      expect(await res.text()).not.toContain('445566');
      const lines = JSON.stringify(logged.mock.calls);
      expect(lines).toContain('QueryFailedError (code 23505)');
      expect(lines).not.toContain('445566');
    } finally {
      logged.mockRestore();
    }
  });

  it('answers a missing token with a bare 401 and audits the reason once', async () => {
    const res = await post('/cds-services/meditron-patient-view', '{}', null);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.text()).toBe('');
    expect(verify).not.toHaveBeenCalled();
    expect(refusals).toEqual([
      expect.objectContaining({ reason: 'missing_token', method: 'POST', path: '/cds-services/meditron-patient-view' }),
    ]);
    // Counted by reason code and status only.
    expect(await registry.getSingleMetricAsString('meditron_gateway_refusals_total')).toContain(
      'meditron_gateway_refusals_total{reason="missing_token",status="401"} 1',
    );
  });

  it('names the client and its tenant when a known client presents a bad token', async () => {
    verify.mockRejectedValue(new AuthRefusal('expired', 'ehr-a'));
    const res = await post('/cds-services/meditron-patient-view', '{}');
    expect(res.status).toBe(401);
    expect(refusals).toEqual([expect.objectContaining({ reason: 'expired', clientId: 'ehr-a', tenant: 'tenant-a' })]);
    expect(forward).not.toHaveBeenCalled();
  });

  it('refuses a service the client may not call with a bare 403', async () => {
    verify.mockResolvedValue({ client, jti: 'j2', expiresAt: new Date(), tenantClaim: null });
    const res = await post('/cds-services/meditron-order-sign', '{}');
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('');
    expect(refusals).toEqual([expect.objectContaining({ reason: 'service_not_allowed', clientId: 'ehr-a' })]);
  });

  it('refuses a body that is not JSON or too large with a reason code, after authentication', async () => {
    verify.mockResolvedValue({ client, jti: 'j3', expiresAt: new Date(), tenantClaim: null });
    const bad = await post('/cds-services/meditron-patient-view', '{"hook": ');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ resourceType: 'OperationOutcome' });
    const big = await post('/cds-services/meditron-patient-view', JSON.stringify({ pad: 'x'.repeat(4096) }));
    expect(big.status).toBe(413);
    expect(refusals.map((r) => [r.action, r.clientId])).toEqual([
      ['request.refused', 'ehr-a'],
      ['request.refused', 'ehr-a'],
    ]);
    expect(forward).not.toHaveBeenCalled();
  });

  it('refuses, by its code, a body that is JSON but not an object, nested too deep or with too long an array', async () => {
    verify.mockResolvedValue({ client, jti: 'j4', expiresAt: new Date(), tenantClaim: null });
    const cases: Array<[string, string]> = [
      ['[{"hook":"patient-view"}]', 'not_an_object'],
      [`{"a":${'['.repeat(80)}${']'.repeat(80)}}`, 'json_too_deep'],
      [`{"a":[${'0,'.repeat(100)}0]}`, 'json_array_too_long'],
      ['{"hook":"patient-view","bad":"\\q"}', 'malformed_json'],
    ];
    for (const [body, reason] of cases) {
      const res = await post('/cds-services/meditron-patient-view', body);
      expect({ reason, status: res.status }).toEqual({ reason, status: 400 });
      expect(await res.json()).toMatchObject({ issue: [{ diagnostics: reason }] });
    }
    expect(refusals.map((r) => r.reason)).toEqual(cases.map(([, reason]) => reason));
    expect(forward).not.toHaveBeenCalled();
  });
});
