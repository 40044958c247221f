import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditWriter } from '@app/audit';
import { DatabaseHealthController } from '@app/database';
import {
  INFERENCE_REQUEST_SOURCE,
  RESULT_SIGNAL,
  type InferenceRequestSource,
  type ResultSignal,
} from '@app/messaging';
import { loggerModule } from '@app/observability';
import type { BackendTarget } from '@app/config';
import { BackendPool } from './backends/backend-pool';
import { InferenceRunner } from './inference/inference-runner.service';
import { INFERENCE_PROXY_CONFIG, type InferenceProxyConfig } from './inference-proxy.config';

export interface InferenceProxyRuntime {
  readonly config: InferenceProxyConfig;
  readonly backends: ReadonlyArray<BackendTarget>;
  readonly dataSource: DataSource;
  readonly source: InferenceRequestSource;
  readonly resultSignal: ResultSignal;
}

@Module({})
export class InferenceProxyModule {
  static forRoot(rt: InferenceProxyRuntime): DynamicModule {
    return {
      module: InferenceProxyModule,
      imports: [loggerModule('inference-proxy', rt.config.LOG_LEVEL)],
      controllers: [DatabaseHealthController],
      providers: [
        { provide: INFERENCE_PROXY_CONFIG, useValue: rt.config },
        { provide: DataSource, useValue: rt.dataSource },
        { provide: INFERENCE_REQUEST_SOURCE, useValue: rt.source },
        { provide: RESULT_SIGNAL, useValue: rt.resultSignal },
        { provide: BackendPool, useFactory: () => new BackendPool(rt.backends, rt.config.BACKEND_TIMEOUT_MS) },
        { provide: AuditWriter, useFactory: (ds: DataSource) => new AuditWriter(ds), inject: [DataSource] },
        InferenceRunner,
      ],
    };
  }
}
