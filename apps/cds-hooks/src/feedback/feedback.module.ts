import { Module } from '@nestjs/common';
import { DiscoveryModule } from '../discovery/discovery.module';
import { FeedbackController } from './feedback.controller';

/** `POST /cds-services/{id}/feedback`. */
@Module({
  imports: [DiscoveryModule],
  controllers: [FeedbackController],
})
export class FeedbackModule {}
