import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditWriter } from '@app/audit';
import { DatabaseHealthController } from '@app/database';
import { INFERENCE_DISPATCHER, RESULT_SIGNAL, type InferenceDispatcher, type ResultSignal } from '@app/messaging';
import { loggerModule } from '@app/observability';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from './cds-hooks.config';
import { DiscoveryController } from './discovery/discovery.controller';
import { DEFAULT_CATALOG_FILE, ServiceCatalog } from './discovery/service-catalog';
import { FeedbackController } from './feedback/feedback.controller';
import { HookHandler } from './hooks/hook-handler.service';
import { HooksController } from './hooks/hooks.controller';
import { FhirAllowList } from './prefetch/fhir-allow-list.service';
import { PrefetchService } from './prefetch/prefetch.service';
import { InferenceReuse } from './results/inference-reuse.service';
import { ResultWaiter } from './results/result-waiter.service';

/** What the app needs from the outside world, wired by main.ts or by the local stack. */
export interface CdsHooksRuntime {
  readonly config: CdsHooksConfig;
  readonly dataSource: DataSource;
  readonly dispatcher: InferenceDispatcher;
  readonly resultSignal: ResultSignal;
}

@Module({})
export class CdsHooksModule {
  static forRoot(rt: CdsHooksRuntime): DynamicModule {
    // Configuration files are read at boot, so a bad one stops start-up instead of failing a hook call.
    const catalog = ServiceCatalog.fromFile(rt.config.CDS_SERVICES_FILE ?? DEFAULT_CATALOG_FILE);
    return {
      module: CdsHooksModule,
      imports: [loggerModule('cds-hooks', rt.config.LOG_LEVEL)],
      controllers: [DiscoveryController, HooksController, FeedbackController, DatabaseHealthController],
      providers: [
        { provide: CDS_HOOKS_CONFIG, useValue: rt.config },
        { provide: DataSource, useValue: rt.dataSource },
        { provide: INFERENCE_DISPATCHER, useValue: rt.dispatcher },
        { provide: RESULT_SIGNAL, useValue: rt.resultSignal },
        { provide: ServiceCatalog, useValue: catalog },
        { provide: AuditWriter, useFactory: (ds: DataSource) => new AuditWriter(ds), inject: [DataSource] },
        ResultWaiter,
        InferenceReuse,
        FhirAllowList,
        PrefetchService,
        HookHandler,
      ],
    };
  }
}
