import { Module } from '@nestjs/common';
import { DataAccessModule, HookInvocationRepository, InferenceRepository } from '@app/database';
import { InferenceReuse } from './inference-reuse.service';
import { ResultWaiter } from './result-waiter.service';

/** Waiting for inference results (signal plus poll) and reusing recent ones. */
@Module({
  imports: [DataAccessModule.forFeature([InferenceRepository, HookInvocationRepository])],
  providers: [ResultWaiter, InferenceReuse],
  exports: [ResultWaiter, InferenceReuse],
})
export class ResultsModule {}
