import { randomBytes, randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { Registry } from 'prom-client';
import type { AuditRecord, AuditWriter } from '@app/audit';
import { UPSTREAM_TIMEOUT_HEADER } from '@app/contracts';
import { loadCdsHooksConfig } from '../cds-hooks.config';
import type { CdsResponse } from '../cards/card';
import { DEFAULT_CATALOG_FILE, ServiceCatalog } from '../discovery/service-catalog';
import { AdmissionControl } from './admission-control.service';
import { UPSTREAM_MARGIN_MS } from './hook-deadline';
import type { HookDelivery } from './hook-delivery';
import { LoadShedding } from './load-shedding.service';
import { ShedRecorder } from './shed-recorder.service';

const SERVICE = 'meditron-patient-view';

describe('LoadShedding', () => {
  const audited: AuditRecord[] = [];
  const registry = new Registry();
  const config = loadCdsHooksConfig({
    INTERNAL_TOKEN_SECRET: randomBytes(32).toString('base64url'),
    HOOK_MAX_IN_FLIGHT: '1',
    HOOK_DEADLINE_MS: '30',
  });
  const admission = new AdmissionControl(config);
  const audit = { record: async (e: AuditRecord) => void audited.push(e) } as unknown as AuditWriter;
  const shedding = new LoadShedding(
    admission,
    new ShedRecorder(registry, audit, admission),
    ServiceCatalog.fromFile(DEFAULT_CATALOG_FILE),
    config,
  );
  const call = (hookInstance: unknown, headers: Record<string, string> = {}): Request =>
    ({ params: { id: SERVICE }, headers, body: { hookInstance } }) as unknown as Request;

  beforeEach(() => (audited.length = 0));

  it('answers no cards at the deadline, keeps the call admitted until its work is done, and sheds meanwhile', async () => {
    let finish!: (r: CdsResponse) => void;
    const slow = new Promise<CdsResponse>((r) => (finish = r));
    const instance = randomUUID();
    await expect(shedding.serve(call(instance), () => slow)).resolves.toEqual({ cards: [] });
    expect(admission.inFlight).toBe(1);
    // Over the limit: answered at once, the handler never runs.
    const never = jest.fn();
    await expect(shedding.serve(call('not-a-uuid'), () => (never(), slow))).resolves.toEqual({ cards: [] });
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
    await expect(shedding.serve(call(randomUUID()), () => Promise.resolve(cards))).resolves.toBe(cards);
    const refused = new Error('refused');
    await expect(shedding.serve(call(randomUUID()), () => Promise.reject(refused))).rejects.toBe(refused);
    expect(admission.inFlight).toBe(0);
    expect(audited).toEqual([]);
  });

  it('waits past the budget for a handler that claimed the answer first, up to the gateway’s own limit', async () => {
    const cards = { cards: [{ uuid: randomUUID() }] } as unknown as CdsResponse;
    const late = (ms: number): Promise<CdsResponse> => new Promise((r) => setTimeout(() => r(cards), ms));
    // A handler whose cards are in and being stored (it claimed the answer) is not cut off by the budget alone.
    const claiming =
      (ms: number) =>
      (delivery: HookDelivery | undefined): Promise<CdsResponse> => {
        delivery!.claim('handler');
        return late(ms);
      };
    await expect(shedding.serve(call(randomUUID()), claiming(80))).resolves.toBe(cards);
    expect(audited).toEqual([]);

    // With the gateway's limit 60 ms away: no cards at that limit rather than a 504.
    const limited = call(randomUUID(), { [UPSTREAM_TIMEOUT_HEADER]: String(60 + UPSTREAM_MARGIN_MS) });
    await expect(shedding.serve(limited, claiming(300))).resolves.toEqual({ cards: [] });
    expect(audited.map((e) => e.detail)).toEqual([{ serviceId: SERVICE, reason: 'shed', cause: 'deadline' }]);
    await new Promise((r) => setTimeout(r, 300));
    expect(admission.inFlight).toBe(0);
  });

  it('lets the deadline claim the answer when the handler has not, so the handler records its cards as withheld', async () => {
    let finish!: (r: CdsResponse) => void;
    const slow = new Promise<CdsResponse>((r) => (finish = r));
    let delivery!: HookDelivery;
    await expect(
      shedding.serve(call(randomUUID()), (d) => {
        delivery = d!;
        return slow;
      }),
    ).resolves.toEqual({ cards: [] });
    expect(delivery.claim('handler')).toBe(false);
    expect(delivery.claim('deadline')).toBe(true);
    finish({ cards: [] });
    await slow;
    await new Promise((r) => setImmediate(r));
    expect(admission.inFlight).toBe(0);
  });
});
