import { Module } from '@nestjs/common';
import {
  DataAccessModule,
  HookInvocationRepository,
  InferenceOutboxRepository,
  InferenceRepository,
} from '@app/database';
import { DiscoveryModule } from '../discovery/discovery.module';
import { promptsModule } from '../library-modules';
import { LoadSheddingModule } from '../load-shedding/load-shedding.module';
import { ModelLimitsModule } from '../model-limits/model-limits.module';
import { PrefetchModule } from '../prefetch/prefetch.module';
import { ResultsModule } from '../results/results.module';
import { CardAnswerService } from './card-answer.service';
import { DeliveredOutbox } from './delivered-outbox.service';
import { HookHandler } from './hook-handler.service';
import { HookPreparation } from './hook-preparation.service';
import { HookPrewarmer } from './hook-prewarmer.service';
import { HookRecorder } from './hook-recorder.service';
import { HooksController } from './hooks.controller';
import { InferenceOutboxRelay } from './inference-outbox.relay';
import { OutboxBacklogGauge } from './outbox-backlog.gauge';
import { InferenceStarter } from './inference-starter.service';

/** `POST /cds-services/{id}`: a hook call from prefetch to cards; the outbox relay behind it. */
@Module({
  imports: [
    DiscoveryModule,
    PrefetchModule,
    ResultsModule,
    ModelLimitsModule,
    LoadSheddingModule,
    promptsModule,
    DataAccessModule.forFeature([HookInvocationRepository, InferenceRepository, InferenceOutboxRepository]),
  ],
  controllers: [HooksController],
  providers: [
    InferenceStarter,
    DeliveredOutbox,
    InferenceOutboxRelay,
    OutboxBacklogGauge,
    CardAnswerService,
    HookPreparation,
    HookRecorder,
    HookPrewarmer,
    HookHandler,
  ],
})
export class HooksModule {}
