import { Global, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { AuditWriter } from '@app/audit';
import { ClientRegistryCache } from '@app/clients';
import { ConfigModule } from '@app/config';
import { ModelPoolLimitsRepository } from '@app/database';
import { FHIR_MODULE_OPTIONS, PrefetchResolver } from '@app/fhir';
import { InferenceClient, RESULT_SIGNAL } from '@app/messaging';
import { METRICS_REGISTRY } from '@app/observability';
import { MODEL_PROFILE, MODEL_PROFILES, PromptBuilder, Summarizer } from '@app/prompts';
import { TEST_INTERNAL_TOKEN_SECRET } from '../../../../test/support/stack-env';
import { InternalAuthModule } from '../auth/internal-auth.module';
import { CDS_HOOKS_CONFIG, loadCdsHooksConfig } from '../cds-hooks.config';
import { CdsHooksMetricsModule } from '../metrics/cds-hooks-metrics.module';
import { PoolContextService } from '../model-limits/pool-context.service';
import { PrefetchService } from '../prefetch/prefetch.service';
import { CardAnswerService } from './card-answer.service';
import { DeliveredOutbox } from './delivered-outbox.service';
import { HookHandler } from './hook-handler.service';
import { HookPreparation } from './hook-preparation.service';
import { HookPrewarmer } from './hook-prewarmer.service';
import { HookRecorder } from './hook-recorder.service';
import { HooksModule } from './hooks.module';
import { InferenceStarter } from './inference-starter.service';

/** What the root module provides globally (database, audit, registry, transport), as inert stand-ins. */
@Global()
@Module({
  providers: [
    { provide: DataSource, useValue: {} },
    { provide: AuditWriter, useValue: { record: async () => undefined } },
    { provide: ClientRegistryCache, useValue: {} },
    { provide: InferenceClient, useValue: {} },
    { provide: RESULT_SIGNAL, useValue: { subscribe: () => () => undefined } },
    { provide: METRICS_REGISTRY, useValue: new Registry() },
  ],
  exports: [DataSource, AuditWriter, ClientRegistryCache, InferenceClient, RESULT_SIGNAL, METRICS_REGISTRY],
})
class RootStandIns {}

/**
 * The hook path's modules compose over FhirModule and PromptsModule: everything resolves, the FHIR bounds and
 * the model profile come from the environment, and one PromptsModule serves both modules that import it.
 */
describe('HooksModule wiring', () => {
  let moduleRef: TestingModule;

  beforeAll(async () => {
    const config = loadCdsHooksConfig({
      INFERENCE_MODEL: 'llama-3-meditron-70b',
      FHIR_TIMEOUT_MS: '1234',
      FHIR_MAX_PAGES: '7',
      INTERNAL_TOKEN_SECRET: TEST_INTERNAL_TOKEN_SECRET,
    });
    moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(CDS_HOOKS_CONFIG, config),
        RootStandIns,
        InternalAuthModule,
        CdsHooksMetricsModule,
        HooksModule,
      ],
    })
      .overrideProvider(ModelPoolLimitsRepository)
      .useValue({ read: async () => null })
      .compile();
  });

  afterAll(() => moduleRef?.close());

  it('resolves the hook handler and the services it is composed of', () => {
    for (const s of [
      HookHandler,
      HookPreparation,
      HookRecorder,
      HookPrewarmer,
      InferenceStarter,
      DeliveredOutbox,
      CardAnswerService,
      PrefetchService,
      PrefetchResolver,
      Summarizer,
      PromptBuilder,
    ])
      expect(moduleRef.get(s, { strict: false })).toBeInstanceOf(s);
  });

  it('binds FHIR_TIMEOUT_MS and FHIR_MAX_PAGES to the FHIR module', () => {
    expect(moduleRef.get(FHIR_MODULE_OPTIONS, { strict: false })).toEqual({ timeoutMs: 1234, maxPages: 7 });
  });

  it('registers PromptsModule once: one profile, guessed from INFERENCE_MODEL, for prompts and the budget', async () => {
    const profiles = moduleRef.get(MODEL_PROFILE, { strict: false, each: true });
    expect(profiles).toEqual([MODEL_PROFILES['llama-3-meditron']]);
    expect(moduleRef.get(PromptBuilder, { strict: false, each: true })).toHaveLength(1);
    // ModelLimitsModule's service budgets for that same profile while the pool has published nothing.
    expect(await moduleRef.get(PoolContextService, { strict: false }).current()).toEqual({
      contextTokens: MODEL_PROFILES['llama-3-meditron'].contextTokens,
      source: 'profile',
    });
  });
});
