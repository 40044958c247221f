import { AuditEventEntity } from './audit-event.entity';
import { CdsCardEntity } from './cds-card.entity';
import { FeedbackEntity } from './feedback.entity';
import { HookInvocationEntity } from './hook-invocation.entity';
import { InferenceRequestEntity } from './inference-request.entity';
import { InferenceResultEntity } from './inference-result.entity';

export * from './audit-event.entity';
export * from './cds-card.entity';
export * from './feedback.entity';
export * from './hook-invocation.entity';
export * from './inference-request.entity';
export * from './inference-result.entity';

export const allEntities = [
  AuditEventEntity,
  CdsCardEntity,
  FeedbackEntity,
  HookInvocationEntity,
  InferenceRequestEntity,
  InferenceResultEntity,
];
