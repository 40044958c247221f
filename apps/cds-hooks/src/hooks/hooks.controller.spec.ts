import { randomUUID } from 'node:crypto';
import { APP_FILTER } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { AuditWriter, type AuditRecord } from '@app/audit';
import { CLIENT_ID_HEADER } from '@app/clients';
import { METRICS_REGISTRY } from '@app/observability';
import { DEFAULT_CATALOG_FILE, ServiceCatalog } from '../discovery/service-catalog';
import { OperationOutcomeFilter } from '../errors/operation-outcome.filter';
import { FeedbackController } from '../feedback/feedback.controller';
import { FeedbackService } from '../feedback/feedback.service';
import { CdsHooksMetrics } from '../metrics/cds-hooks-metrics';
import { HookHandler } from './hook-handler.service';
import { HooksController } from './hooks.controller';

/** The HTTP layer alone (routing, guard, validation pipe, error filter) over mocked services: no database. */
describe('HooksController and FeedbackController over HTTP', () => {
  let app: NestExpressApplication;
  let base = '';
  const audited: AuditRecord[] = [];
  const handle = jest.fn(async () => ({ cards: [] }));
  const receive = jest.fn(async () => undefined);

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [HooksController, FeedbackController],
      providers: [
        { provide: ServiceCatalog, useValue: ServiceCatalog.fromFile(DEFAULT_CATALOG_FILE) },
        { provide: HookHandler, useValue: { handle } },
        { provide: FeedbackService, useValue: { receive } },
        { provide: AuditWriter, useValue: { record: async (e: AuditRecord) => void audited.push(e) } },
        { provide: METRICS_REGISTRY, useValue: new Registry() },
        CdsHooksMetrics,
        { provide: APP_FILTER, useClass: OperationOutcomeFilter },
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
    app.useBodyParser('json', { limit: '5mb', type: ['application/json', 'application/fhir+json'] });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(() => app.close());

  beforeEach(() => {
    audited.length = 0;
    handle.mockClear();
    receive.mockClear();
  });

  const post = async (path: string, body: string) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CLIENT_ID_HEADER]: 'ehr-1', 'x-request-id': 'req-00000001' },
      body,
    });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      json: (await res.json()) as Record<string, unknown>,
    };
  };

  const hookCall = {
    hook: 'patient-view',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/1', patientId: 'p1' },
  };

  it('hands a valid call to the handler, parsed, and returns its cards', async () => {
    const res = await post('/cds-services/meditron-patient-view', JSON.stringify(hookCall));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ cards: [] });
    expect(handle).toHaveBeenCalledWith('meditron-patient-view', expect.objectContaining(hookCall), {
      requestId: 'req-00000001',
      traceparent: undefined,
      clientId: 'ehr-1',
    });
    expect(audited).toEqual([]);
  });

  it('refuses an unknown service with 404 before reading the body, and audits it once', async () => {
    const res = await post('/cds-services/no-such-service', '{"not":"a hook"}');
    expect(res.status).toBe(404);
    expect(res.type).toContain('application/fhir+json');
    expect(res.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] });
    expect(handle).not.toHaveBeenCalled();
    expect(audited).toEqual([
      expect.objectContaining({
        action: 'hook.refused',
        outcome: 'refused',
        clientId: 'ehr-1',
        requestId: 'req-00000001',
        detail: { serviceId: null, reason: 'unknown_service' },
      }),
    ]);
  });

  it('refuses an invalid hook request with 400 naming the field, not its value', async () => {
    const res = await post(
      '/cds-services/meditron-patient-view',
      JSON.stringify({ ...hookCall, hookInstance: 'Patient Jane Doe' }),
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toContain('hookInstance');
    expect(JSON.stringify(res.json)).not.toContain('Jane');
    expect(handle).not.toHaveBeenCalled();
    expect(audited.map((a) => [a.action, a.detail])).toEqual([
      ['hook.refused', { serviceId: 'meditron-patient-view', reason: 'invalid_request' }],
    ]);
  });

  it('answers a body that is not JSON with a 400 OperationOutcome', async () => {
    const res = await post('/cds-services/meditron-patient-view', '{"hook": ');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'invalid' }] });
    expect(handle).not.toHaveBeenCalled();
  });

  it('refuses feedback for an unknown service naming the id asked for, and malformed feedback', async () => {
    const unknown = await post('/cds-services/nope/feedback', '{}');
    expect(unknown.status).toBe(404);
    const malformed = await post('/cds-services/meditron-patient-view/feedback', JSON.stringify({ feedback: [{}] }));
    expect(malformed.status).toBe(400);
    expect(receive).not.toHaveBeenCalled();
    expect(audited.map((a) => [a.action, a.detail])).toEqual([
      ['feedback.refused', { serviceId: 'nope', reason: 'unknown_service' }],
      ['feedback.refused', { serviceId: 'meditron-patient-view', reason: 'invalid_request' }],
    ]);
  });

  it('answers 500 without internals when the handler fails unexpectedly', async () => {
    handle.mockRejectedValueOnce(new Error('relation "x" does not exist: value 1234'));
    const res = await post('/cds-services/meditron-patient-view', JSON.stringify(hookCall));
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.json)).not.toContain('1234');
  });
});
