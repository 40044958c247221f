import { APP_FILTER } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { AuditException, AuditExceptionCode, AuditWriter, type AuditRecord } from '@app/audit';
import { STAFF_TOKEN_VERIFIER, StaffAuthGuard } from '@app/auth';
import { EdgeExceptionFilter } from '../../edge/edge-exception.filter';
import { RefusalAggregator } from '../../edge/refusal-aggregator';
import { ComplianceAudit } from '../compliance-audit';
import { decodeCursor, encodeCursor } from './audit-cursor';
import { AuditEventSearch } from './audit-event.search';
import type { AuditEventView } from './audit-event.view';
import { AuditEventsController } from './audit-events.controller';
import { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@app/observability';
import { GatewayMetrics } from '../../edge/gateway-metrics.service';

const event: AuditEventView = {
  id: '42',
  recordedAt: '2026-11-29T10:00:00.000Z',
  action: 'hook.answered',
  outcome: 'success',
  service: 'cds-hooks',
  actor: null,
  clientId: 'ehr-a',
  tenant: null,
  patientRef: 'Patient/p-1',
  requestId: 'req-1',
  hookInstance: null,
  detail: {},
  prevHash: '0'.repeat(64),
  hash: '1'.repeat(64),
};

/** Compliance search over HTTP: real staff guard, query parsing, cursor and self-audit; the search itself mocked. */
describe('AuditEventsController over HTTP', () => {
  let app: NestExpressApplication;
  let base = '';
  const audited: AuditRecord[] = [];
  let auditDown = false;
  const page = jest.fn(async () => ({ items: [event], nextAfterId: '42' as string | null }));
  const byId = jest.fn(async (id: string) => (id === '42' ? event : null));

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [AuditEventsController],
      providers: [
        // The edge filter counts refusals on the app's metrics registry.
        { provide: METRICS_REGISTRY, useValue: new Registry() },
        GatewayMetrics,
        {
          provide: STAFF_TOKEN_VERIFIER,
          useValue: { verify: async () => ({ subject: 'carol', roles: ['compliance'] }) },
        },
        { provide: AuditEventSearch, useValue: { page, byId } },
        {
          provide: AuditWriter,
          useValue: {
            record: async (e: AuditRecord) => {
              if (auditDown) throw new AuditException(AuditExceptionCode.WRITE_TIMEOUT, 'audit store down');
              audited.push(e);
            },
          },
        },
        { provide: RefusalAggregator, useValue: { record: async () => undefined } },
        ComplianceAudit,
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
    auditDown = false;
    page.mockClear();
    byId.mockClear();
  });

  const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: 'Bearer staff' } });

  it('passes the parsed filters, limit and cursor to the search, pages by cursor, and audits filter names', async () => {
    const res = await get(
      `/compliance/audit-events?patient=Patient/p-1&outcome=success&limit=10&cursor=${encodeCursor('100')}`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: AuditEventView[]; nextCursor: string };
    expect(body.items).toEqual([event]);
    expect(decodeCursor(body.nextCursor)).toBe('42');
    expect(page).toHaveBeenCalledWith({ patient: 'Patient/p-1', outcome: 'success' }, 10, '100');
    expect(audited).toEqual([
      expect.objectContaining({
        action: 'compliance.search',
        actor: 'carol',
        patientRef: 'Patient/p-1',
        detail: expect.objectContaining({ results: 1, paged: true }),
      }),
    ]);
    expect(JSON.stringify(audited[0]!.detail)).not.toContain('p-1');
  });

  it('refuses unknown or malformed filters and cursors with 400, before searching or auditing', async () => {
    for (const q of ['nope=1', 'limit=0', 'from=yesterday', 'cursor=bogus', 'format=csv']) {
      expect({ q, status: (await get(`/compliance/audit-events?${q}`)).status }).toEqual({ q, status: 400 });
    }
    expect(page).not.toHaveBeenCalled();
    expect(audited).toEqual([]);
  });

  it('reads one event by id: 400 for an id Postgres would not take, 404 (audited) for none', async () => {
    expect((await get('/compliance/audit-events/42')).status).toBe(200);
    expect((await get('/compliance/audit-events/99999999999999999999')).status).toBe(400);
    expect((await get('/compliance/audit-events/7')).status).toBe(404);
    expect(byId.mock.calls.map((c) => c[0])).toEqual(['42', '7']);
    expect(audited.map((a) => a.detail)).toEqual([
      expect.objectContaining({ eventId: '42', found: true }),
      expect.objectContaining({ eventId: '7', found: false }),
    ]);
  });

  it('answers 503 and no rows when its own audit row cannot be written', async () => {
    auditDown = true;
    const res = await get('/compliance/audit-events?patient=Patient/p-1');
    expect(res.status).toBe(503);
    expect(await res.text()).not.toContain('p-1');
  });
});
