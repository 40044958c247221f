import { Module } from '@nestjs/common';
import { DataAccessModule, InferenceRepository } from '@app/database';
import { ResultWaiter } from './result-waiter.service';

/** Waiting for inference results (signal plus poll). */
@Module({
  imports: [DataAccessModule.forFeature([InferenceRepository])],
  providers: [ResultWaiter],
  exports: [ResultWaiter],
})
export class ResultsModule {}
