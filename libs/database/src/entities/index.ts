import { AuditEventEntity } from './audit-event.entity';
import { CardSuggestionEntity } from './card-suggestion.entity';
import { CdsCardEntity } from './cds-card.entity';
import { FeedbackEntity } from './feedback.entity';
import { HookInvocationEntity } from './hook-invocation.entity';
import { InferenceRequestEntity } from './inference-request.entity';
import { InferenceResultEntity } from './inference-result.entity';

export * from './audit-event.entity';
export * from './card-suggestion.entity';
export * from './cds-card.entity';
export * from './feedback.entity';
export * from './hook-invocation.entity';
export * from './inference-request.entity';
export * from './inference-result.entity';

export const allEntities = [
  AuditEventEntity,
  CardSuggestionEntity,
  CdsCardEntity,
  FeedbackEntity,
  HookInvocationEntity,
  InferenceRequestEntity,
  InferenceResultEntity,
];
