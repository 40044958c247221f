import { Module } from '@nestjs/common';
import { InferenceReuse } from './inference-reuse.service';
import { ResultWaiter } from './result-waiter.service';

/** Waiting for inference results (signal plus poll) and reusing recent ones. */
@Module({
  providers: [ResultWaiter, InferenceReuse],
  exports: [ResultWaiter, InferenceReuse],
})
export class ResultsModule {}
