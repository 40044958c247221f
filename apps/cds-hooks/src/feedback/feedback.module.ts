import { Module } from '@nestjs/common';
import { CardFeedbackRepository, DataAccessModule } from '@app/database';
import { DiscoveryModule } from '../discovery/discovery.module';
import { FeedbackController } from './feedback.controller';
import { FeedbackService } from './feedback.service';

/** `POST /cds-services/{id}/feedback`. */
@Module({
  imports: [DiscoveryModule, DataAccessModule.forFeature([CardFeedbackRepository])],
  controllers: [FeedbackController],
  providers: [FeedbackService],
})
export class FeedbackModule {}
