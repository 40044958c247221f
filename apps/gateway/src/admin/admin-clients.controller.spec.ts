import { APP_FILTER } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { AuditWriter, type AuditRecord } from '@app/audit';
import { AuthRefusal, STAFF_TOKEN_VERIFIER, StaffAuthGuard } from '@app/auth';
import { ClientRegistry, ClientRegistryCache, ehrClientSchema } from '@app/clients';
import { EdgeExceptionFilter } from '../edge/edge-exception.filter';
import { RefusalAggregator } from '../edge/refusal-aggregator';
import type { RefusalNotice } from '../edge/refusal-windows';
import { AdminClientsController } from './admin-clients.controller';
import { AdminClientWriter } from './admin-client.writer';
import { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@app/observability';
import { GatewayMetrics } from '../edge/gateway-metrics.service';

const client = ehrClientSchema.parse({
  id: 'ehr-a',
  issuer: 'https://ehr-a.example.test',
  tenant: 'tenant-a',
  jwks: { keys: [{ kty: 'EC', crv: 'P-384', x: 'secret-x', y: 'secret-y', kid: 'k1' }] },
  services: ['meditron-patient-view'],
  fhirBaseUrls: ['https://fhir.ehr-a.example.test/r4'],
});

/** GET /admin/clients over HTTP with the real staff guard and error filter, a mocked verifier and registry. */
describe('AdminClientsController over HTTP', () => {
  let app: NestExpressApplication;
  let base = '';
  const audited: AuditRecord[] = [];
  const refusals: RefusalNotice[] = [];
  const staff: Record<string, { subject: string; roles: string[] }> = {
    'admin-token': { subject: 'alice', roles: ['admin'] },
    'auditor-token': { subject: 'bob', roles: ['compliance'] },
  };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [AdminClientsController],
      providers: [
        // The edge filter counts refusals on the app's metrics registry.
        { provide: METRICS_REGISTRY, useValue: new Registry() },
        GatewayMetrics,
        {
          provide: STAFF_TOKEN_VERIFIER,
          useValue: {
            verify: async (token: string) => {
              const p = staff[token];
              if (!p) throw new AuthRefusal('bad_signature');
              return p;
            },
          },
        },
        {
          provide: ClientRegistryCache,
          useValue: { current: () => new ClientRegistry([client]), reload: async () => undefined },
        },
        {
          // Its own parsing is covered by the admin console's browser suite against a real database.
          provide: AdminClientWriter,
          useValue: {
            parse: async () => ({ ok: false, reason: 'invalid_client' }),
            upsert: async () => undefined,
            remove: async (id: string) => id === 'ehr-a',
          },
        },
        { provide: AuditWriter, useValue: { record: async (e: AuditRecord) => void audited.push(e) } },
        { provide: RefusalAggregator, useValue: { record: async (e: RefusalNotice) => void refusals.push(e) } },
        StaffAuthGuard,
        { provide: APP_FILTER, useClass: EdgeExceptionFilter },
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(() => app.close());

  beforeEach(() => {
    audited.length = 0;
    refusals.length = 0;
  });

  const list = (token?: string) =>
    fetch(`${base}/admin/clients`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('lists the registered clients without their keys, and audits who asked', async () => {
    const res = await list('admin-token');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      clients: [
        expect.objectContaining({
          id: 'ehr-a',
          issuer: 'https://ehr-a.example.test',
          tenant: 'tenant-a',
          services: ['meditron-patient-view'],
          fhirBaseUrls: ['https://fhir.ehr-a.example.test/r4'],
          kids: ['k1'],
          rateLimit: null,
        }),
      ],
    });
    expect(text).not.toContain('secret-x');
    expect(audited).toEqual([
      expect.objectContaining({ action: 'admin.clients.listed', outcome: 'success', actor: 'alice' }),
    ]);
  });

  it('answers 401 without a valid staff token and 403 without the admin role, audited as refusals', async () => {
    expect((await list()).status).toBe(401);
    expect((await list('forged')).status).toBe(401);
    expect((await list('auditor-token')).status).toBe(403);
    expect(audited).toEqual([]);
    expect(refusals.map((r) => r.reason)).toEqual(['missing_token', 'bad_signature', 'missing_role']);
  });

  it('refuses an invalid client definition with a reason code, audited as a refusal; removes and audits', async () => {
    const auth = { authorization: 'Bearer admin-token', 'content-type': 'application/json' };
    const bad = await fetch(`${base}/admin/clients/ehr-b`, { method: 'PUT', headers: auth, body: '{"issuer":1}' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('invalid_client');
    expect(refusals.map((r) => [r.reason, r.actor])).toEqual([['invalid_client', 'alice']]);
    expect((await fetch(`${base}/admin/clients/ehr-a`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await fetch(`${base}/admin/clients/nope`, { method: 'DELETE', headers: auth })).status).toBe(404);
    expect(audited.map((a) => [a.action, a.detail])).toEqual([
      ['admin.clients.removed', { client: 'ehr-a', found: true }],
      ['admin.clients.removed', { client: 'nope', found: false }],
    ]);
    const compliance = { authorization: 'Bearer auditor-token' };
    expect((await fetch(`${base}/admin/clients/ehr-a`, { method: 'DELETE', headers: compliance })).status).toBe(403);
  });
});
