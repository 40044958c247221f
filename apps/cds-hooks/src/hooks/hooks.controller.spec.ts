import { randomBytes, randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { APP_FILTER } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { AuditWriter, type AuditRecord } from '@app/audit';
import { SignJWT } from 'jose';
import { QueryFailedError } from 'typeorm';
import { INTERNAL_TOKEN_HEADER, InternalTokenSigner, InternalTokenVerifier, pathHash } from '@app/auth';
import { ClientRegistryCache } from '@app/clients';
import { InternalAuthGuard } from '../auth/internal-auth.guard';
import { METRICS_REGISTRY } from '@app/observability';
import { DEFAULT_CATALOG_FILE, ServiceCatalog } from '../discovery/service-catalog';
import { HookRefusalException } from '../errors/hook-refusal.exception';
import { OperationOutcomeFilter } from '../errors/operation-outcome.filter';
import { FeedbackController } from '../feedback/feedback.controller';
import { FeedbackService } from '../feedback/feedback.service';
import { CdsHooksMetrics } from '../metrics/cds-hooks-metrics.service';
import { HookTiming } from '../metrics/hook-timing.service';
import { CDS_HOOKS_CONFIG, loadCdsHooksConfig } from '../cds-hooks.config';
import { AdmissionControl } from '../load-shedding/admission-control.service';
import { HookDelivery } from '../load-shedding/hook-delivery';
import { LoadShedding } from '../load-shedding/load-shedding.service';
import { ShedRecorder } from '../load-shedding/shed-recorder.service';
import { HookHandler } from './hook-handler.service';
import { HooksController } from './hooks.controller';

const SECRET = randomBytes(32).toString('base64url');
const signer = new InternalTokenSigner(SECRET);
/** ehr-1 may call every service; ehr-narrow only the order-sign one. */
const SERVICES: Record<string, string[]> = { 'ehr-1': ['*'], 'ehr-narrow': ['meditron-order-sign'] };

/** The HTTP layer alone (routing, guards, validation pipe, error filter) over mocked services: no database. */
describe('HooksController and FeedbackController over HTTP', () => {
  let app: NestExpressApplication;
  let base = '';
  const audited: AuditRecord[] = [];
  const handle = jest.fn(async () => ({ cards: [] }));
  const receive = jest.fn(async () => undefined);
  const registry = new Registry();

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [HooksController, FeedbackController],
      providers: [
        { provide: ServiceCatalog, useValue: ServiceCatalog.fromFile(DEFAULT_CATALOG_FILE) },
        { provide: InternalTokenVerifier, useValue: new InternalTokenVerifier(SECRET) },
        {
          provide: ClientRegistryCache,
          useValue: {
            allowsService: async (c: string, s: string) => (SERVICES[c] ?? []).some((x) => x === '*' || x === s),
          },
        },
        InternalAuthGuard,
        { provide: HookHandler, useValue: { handle } },
        { provide: FeedbackService, useValue: { receive } },
        { provide: AuditWriter, useValue: { record: async (e: AuditRecord) => void audited.push(e) } },
        { provide: METRICS_REGISTRY, useValue: registry },
        CdsHooksMetrics,
        { provide: CDS_HOOKS_CONFIG, useValue: loadCdsHooksConfig({ INTERNAL_TOKEN_SECRET: SECRET }) },
        AdmissionControl,
        ShedRecorder,
        LoadShedding,
        HookTiming,
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

  const tokenFor = (path: string, clientId = 'ehr-1') =>
    signer.sign({
      clientId,
      requestId: 'req-00000001',
      serviceId: path.split('/')[2] ?? null,
      method: 'POST',
      path,
    });

  const post = async (path: string, body: string, token?: string | null) => {
    const t = token === undefined ? await tokenFor(path) : token;
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'req-spoofed',
        ...(t === null ? {} : { [INTERNAL_TOKEN_HEADER]: t }),
      },
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
      // Load shedding's claim on who answers the EHR travels with the call.
      delivery: expect.any(HookDelivery),
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

  it('counts each call once by outcome, a refused body as refused (validation runs inside the timing)', async () => {
    const calls = async (): Promise<string> =>
      (await registry.getSingleMetricAsString('meditron_cds_hook_calls_total'))
        .split('\n')
        .filter((l) => l.startsWith('meditron_cds_hook_calls_total{service="meditron-order-sign"'))
        .join('\n');
    const before = await calls();
    await post('/cds-services/meditron-order-sign', JSON.stringify({ ...hookCall, hook: 'order-sign' }));
    await post('/cds-services/meditron-order-sign', JSON.stringify({ ...hookCall, hookInstance: 'x' }));
    expect(before).toBe('');
    expect(await calls()).toBe(
      [
        'meditron_cds_hook_calls_total{service="meditron-order-sign",outcome="no_cards"} 1',
        'meditron_cds_hook_calls_total{service="meditron-order-sign",outcome="refused"} 1',
      ].join('\n'),
    );
  });

  it('puts no Nest interceptor on the hook route (see HooksController: they keep every call alive in young GCs)', () => {
    const onClass: unknown[] = Reflect.getMetadata(INTERCEPTORS_METADATA, HooksController) ?? [];
    const onMethod: unknown[] = Reflect.getMetadata(INTERCEPTORS_METADATA, HooksController.prototype.invoke) ?? [];
    expect([...onClass, ...onMethod]).toEqual([]);
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

  it('audits a refusal raised past the pipe (required prefetch unavailable) with what the handler learnt', async () => {
    handle.mockRejectedValueOnce(
      new HookRefusalException(
        'hook.refused',
        'prefetch_unavailable',
        412,
        [
          {
            code: 'incomplete',
            diagnostics: 'required prefetch "patient" could not be obtained',
            expression: 'prefetch.patient',
          },
        ],
        'meditron-patient-view',
        { patientRef: 'Patient/p1', hookInstance: hookCall.hookInstance, detail: { keys: 'patient:timeout' } },
      ),
    );
    const res = await post('/cds-services/meditron-patient-view', JSON.stringify(hookCall));
    expect(res.status).toBe(412);
    expect(res.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'incomplete' }] });
    expect(audited).toEqual([
      {
        action: 'hook.refused',
        outcome: 'refused',
        service: 'cds-hooks',
        clientId: 'ehr-1',
        patientRef: 'Patient/p1',
        requestId: 'req-00000001',
        hookInstance: hookCall.hookInstance,
        detail: { serviceId: 'meditron-patient-view', reason: 'prefetch_unavailable', keys: 'patient:timeout' },
      },
    ]);
  });

  it('answers 500 without internals when the handler fails unexpectedly', async () => {
    handle.mockRejectedValueOnce(new Error('relation "x" does not exist: value 1234'));
    const res = await post('/cds-services/meditron-patient-view', JSON.stringify(hookCall));
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.json)).not.toContain('1234');
  });

  it('logs a database failure by class and SQLSTATE only, never the row values its message quotes', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const driverError = Object.assign(new Error('Key (patient_ref)=(Patient/MRN-998877) already exists'), {
        code: '23505',
      });
      handle.mockRejectedValueOnce(new QueryFailedError('INSERT ...', ['Patient/MRN-998877'], driverError));
      const res = await post('/cds-services/meditron-patient-view', JSON.stringify(hookCall));
      expect(res.status).toBe(500);
      const lines = JSON.stringify(logged.mock.calls);
      expect(lines).toContain('QueryFailedError (code 23505)');
      expect(lines).not.toContain('998877');
    } finally {
      logged.mockRestore();
    }
  });

  describe('the gateway token (InternalAuthGuard)', () => {
    const PATH = '/cds-services/meditron-patient-view';
    const key = new Uint8Array(Buffer.from(SECRET, 'base64url'));
    const craft = (claims: Record<string, unknown>, opts: { key?: Uint8Array; exp?: number; aud?: string } = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        rid: 'req-1',
        svc: 'meditron-patient-view',
        htm: 'POST',
        htp: pathHash('POST', PATH),
        ...claims,
      })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('meditron-gateway')
        .setAudience(opts.aud ?? 'meditron-cds-hooks')
        .setSubject('ehr-1')
        .setIssuedAt(opts.exp === undefined ? now : opts.exp - 30)
        .setExpirationTime(opts.exp ?? now + 30)
        .setJti(randomUUID())
        .sign(opts.key ?? key);
    };
    const refusedWith = (reason: string) => [
      expect.objectContaining({
        action: 'hook.refused',
        outcome: 'refused',
        clientId: null,
        detail: { serviceId: null, reason },
      }),
    ];

    it.each([
      ['no token', async () => null, 'missing_token'],
      ['a token signed with another key', () => craft({}, { key: randomBytes(32) }), 'invalid_token'],
      ['an expired token', () => craft({}, { exp: Math.floor(Date.now() / 1000) - 5 }), 'token_expired'],
      ['a token for another audience', () => craft({}, { aud: 'meditron-gateway' }), 'invalid_token'],
      ['a token minted for another path', () => tokenFor('/cds-services/meditron-order-sign'), 'wrong_call'],
      ['a token that is not a JWT', async () => 'ehr-1', 'invalid_token'],
    ])('refuses %s with 401, audited, before the handler', async (_, make, reason) => {
      const res = await post(PATH, JSON.stringify(hookCall), await make());
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'login' }] });
      expect(handle).not.toHaveBeenCalled();
      expect(audited).toEqual(refusedWith(reason));
    });

    it('refuses a replayed token: the first call passes, the same token again is a 401', async () => {
      const token = await tokenFor(PATH);
      expect((await post(PATH, JSON.stringify(hookCall), token)).status).toBe(200);
      const again = await post(PATH, JSON.stringify(hookCall), token);
      expect(again.status).toBe(401);
      expect(handle).toHaveBeenCalledTimes(1);
      expect(audited).toEqual(refusedWith('token_replayed'));
    });

    it('takes the client and request id from the token only, never from headers', async () => {
      await post(PATH, JSON.stringify(hookCall));
      expect(handle).toHaveBeenCalledWith(
        'meditron-patient-view',
        expect.anything(),
        expect.objectContaining({ clientId: 'ehr-1', requestId: 'req-00000001' }),
      );
    });

    it('refuses with 403 a client calling a service outside its list, and audits who it was', async () => {
      const res = await post(PATH, JSON.stringify(hookCall), await tokenFor(PATH, 'ehr-narrow'));
      expect(res.status).toBe(403);
      expect(handle).not.toHaveBeenCalled();
      expect(audited).toEqual([
        expect.objectContaining({
          action: 'hook.refused',
          clientId: 'ehr-narrow',
          detail: { serviceId: null, reason: 'service_not_allowed' },
        }),
      ]);
      const allowed = '/cds-services/meditron-order-sign/feedback';
      expect(
        (await post(allowed, JSON.stringify({ feedback: [] }), await tokenFor(allowed, 'ehr-narrow'))).status,
      ).not.toBe(403);
    });
  });
});
