import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { MODEL_PROFILES, PromptsModule } from '@app/prompts';
import { prefetchFromSynthea } from '../../../../test/support/synthea';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import { DEFAULT_CATALOG_FILE, ServiceCatalog } from '../discovery/service-catalog';
import { HookRefusalException } from '../errors/hook-refusal.exception';
import { PoolContextService } from '../model-limits/pool-context.service';
import { PrefetchService, type PrefetchCall } from '../prefetch/prefetch.service';
import { ANSWER_MARGIN_MS, HookPreparation } from './hook-preparation.service';
import type { HookRequest } from './hook-request.schema';

const SYNTHEA = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';

/** From a hook request to a prompt, with the real catalog, summarizer and prompt builder; the EHR's data prefetched. */
describe('HookPreparation', () => {
  let preparation: HookPreparation;
  let catalog: ServiceCatalog;
  const asked: PrefetchCall[] = [];
  const { patientId, prefetch } = prefetchFromSynthea(SYNTHEA);

  beforeAll(async () => {
    catalog = ServiceCatalog.fromFile(DEFAULT_CATALOG_FILE);
    const moduleRef = await Test.createTestingModule({
      imports: [PromptsModule.register({ profile: MODEL_PROFILES['meditron-70b'] })],
      providers: [
        HookPreparation,
        { provide: ServiceCatalog, useValue: catalog },
        {
          provide: PrefetchService,
          useValue: {
            gatherContext: async (call: PrefetchCall) => {
              asked.push(call);
              return { data: prefetch, source: { templates: call.service.prefetch } };
            },
          },
        },
        { provide: PoolContextService, useValue: { contextTokens: async () => 4096 } },
        { provide: CDS_HOOKS_CONFIG, useValue: { HOOK_DEADLINE_MS: 4000 } as CdsHooksConfig },
      ],
    }).compile();
    preparation = moduleRef.get(HookPreparation);
  });

  const patientView = (): HookRequest => ({
    hookInstance: randomUUID(),
    hook: 'patient-view',
    context: { userId: 'Practitioner/example', patientId },
    prefetch,
  });
  const meta = { requestId: 'req-1', traceparent: undefined, clientId: 'ehr-1' };

  it('admits the call, sets its budget, gathers its context and builds its prompt', async () => {
    const before = Date.now();
    const prepared = await preparation.prepare('meditron-patient-view', patientView(), meta);
    const { call } = prepared;
    expect(call.service.id).toBe('meditron-patient-view');
    expect(call.receivedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(call.answerBy).toBe(call.receivedAt.getTime() + (call.service.budgetMs ?? 4000) - ANSWER_MARGIN_MS);
    expect(prepared.patientRef).toBe(`Patient/${patientId}`);
    expect(prepared.contextTokens).toBe(4096);
    expect(asked.at(-1)).toMatchObject({ clientId: 'ehr-1', requestId: 'req-1', patientRef: `Patient/${patientId}` });
    expect(prepared.prompt.hash).toMatch(/^[0-9a-f]{64}$/);
    // De-identified: the patient's id is not in what the model is sent.
    expect(prepared.prompt.prompt ?? JSON.stringify(prepared.prompt.messages)).not.toContain(patientId);
  });

  it("builds the same prompt for the same context (so a repeat finds the first call's inference)", async () => {
    const a = await preparation.prepare('meditron-patient-view', patientView(), meta);
    const b = await preparation.prepare('meditron-patient-view', patientView(), meta);
    expect(b.prompt.hash).toBe(a.prompt.hash);
    expect(b.call.invocationId).not.toBe(a.call.invocationId);
  });

  it("builds a prewarmed service's prompt with that service's own offer, from the same summary", async () => {
    const prepared = await preparation.prepare('meditron-patient-view', patientView(), meta);
    expect((await preparation.promptFor(prepared, prepared.call.service)).hash).toBe(prepared.prompt.hash);
    const orderSign = catalog.find('meditron-order-sign')!;
    const warm = await preparation.promptFor(prepared, orderSign);
    expect(warm.hash).not.toBe(prepared.prompt.hash);
  });

  it('refuses a call whose hook is not the one the service answers', async () => {
    const wrong = { ...patientView(), hook: 'order-sign' };
    await expect(preparation.prepare('meditron-patient-view', wrong, meta)).rejects.toBeInstanceOf(
      HookRefusalException,
    );
  });
});
