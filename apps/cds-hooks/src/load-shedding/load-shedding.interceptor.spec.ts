import { randomBytes, randomUUID } from 'node:crypto';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { Registry } from 'prom-client';
import { firstValueFrom, from, type Observable } from 'rxjs';
import type { AuditRecord, AuditWriter } from '@app/audit';
import { loadCdsHooksConfig } from '../cds-hooks.config';
import type { CdsResponse } from '../cards/card';
import { DEFAULT_CATALOG_FILE, ServiceCatalog } from '../discovery/service-catalog';
import { AdmissionControl } from './admission-control.service';
import { LoadSheddingInterceptor } from './load-shedding.interceptor';
import { ShedRecorder } from './shed-recorder.service';

const SERVICE = 'meditron-patient-view';

describe('LoadSheddingInterceptor', () => {
  const audited: AuditRecord[] = [];
  const registry = new Registry();
  const config = loadCdsHooksConfig({
    INTERNAL_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    HOOK_MAX_IN_FLIGHT: '1',
    HOOK_DEADLINE_MS: '30',
  });
  const admission = new AdmissionControl(config);
  const audit = { record: async (e: AuditRecord) => void audited.push(e) } as unknown as AuditWriter;
  const interceptor = new LoadSheddingInterceptor(
    admission,
    new ShedRecorder(registry, audit, admission),
    ServiceCatalog.fromFile(DEFAULT_CATALOG_FILE),
    config,
  );
  const ctx = (hookInstance: unknown): ExecutionContext =>
    ({
      switchToHttp: () => ({ getRequest: () => ({ params: { id: SERVICE }, headers: {}, body: { hookInstance } }) }),
    }) as unknown as ExecutionContext;
  const handler = (work: Promise<CdsResponse>): CallHandler<CdsResponse> => ({ handle: () => from(work) });
  const run = (o: Observable<CdsResponse>): Promise<CdsResponse> => firstValueFrom(o);

  beforeEach(() => (audited.length = 0));

  it('answers no cards at the deadline, keeps the call admitted until its work is done, and sheds meanwhile', async () => {
    let finish!: (r: CdsResponse) => void;
    const slow = new Promise<CdsResponse>((r) => (finish = r));
    const instance = randomUUID();
    await expect(run(interceptor.intercept(ctx(instance), handler(slow)))).resolves.toEqual({ cards: [] });
    expect(admission.inFlight).toBe(1);
    // Over the limit: answered at once, the handler never runs.
    const never = jest.fn();
    await expect(
      run(interceptor.intercept(ctx('not-a-uuid'), { handle: () => (never(), from(slow)) })),
    ).resolves.toEqual({ cards: [] });
    expect(never).not.toHaveBeenCalled();
    finish({ cards: [] });
    await slow;
    await new Promise((r) => setImmediate(r));
    expect(admission.inFlight).toBe(0);
    expect(audited.map((e) => [e.action, e.outcome, e.hookInstance, e.detail])).toEqual([
      ['hook.shed', 'refused', instance, { serviceId: SERVICE, reason: 'shed', cause: 'deadline' }],
      ['hook.shed', 'refused', null, { serviceId: SERVICE, reason: 'shed', cause: 'in_flight_limit' }],
    ]);
    const text = await registry.getSingleMetricAsString('meditron_hooks_shed_total');
    expect(text).toContain(`meditron_hooks_shed_total{service="${SERVICE}",reason="deadline"} 1`);
    expect(text).toContain(`meditron_hooks_shed_total{service="${SERVICE}",reason="in_flight_limit"} 1`);
  });

  it('passes the handler’s answer or error through when it comes in time, and releases the call', async () => {
    const cards = { cards: [{ uuid: randomUUID() }] } as unknown as CdsResponse;
    await expect(run(interceptor.intercept(ctx(randomUUID()), handler(Promise.resolve(cards))))).resolves.toBe(cards);
    const refused = new Error('refused');
    await expect(run(interceptor.intercept(ctx(randomUUID()), handler(Promise.reject(refused))))).rejects.toBe(refused);
    expect(admission.inFlight).toBe(0);
    expect(audited).toEqual([]);
  });
});
