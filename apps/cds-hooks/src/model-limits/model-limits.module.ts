import { Module } from '@nestjs/common';
import { DataAccessModule, ModelPoolLimitsRepository } from '@app/database';
import { promptsModule } from '../library-modules';
import { PoolContextService } from './pool-context.service';

/** The context prompts may use, from what the inference proxy learnt of its servers. */
@Module({
  imports: [DataAccessModule.forFeature([ModelPoolLimitsRepository]), promptsModule],
  providers: [PoolContextService],
  exports: [PoolContextService],
})
export class ModelLimitsModule {}
