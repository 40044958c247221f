import { InitialSchema1764090000000 } from './1764090000000-initial-schema';
import { CardsFeedbackReuse1764100000000 } from './1764100000000-cards-feedback-reuse';
import { GatewayAuth1764200000000 } from './1764200000000-gateway-auth';
import { InferenceRecordColumns1764310000000 } from './1764310000000-inference-record-columns';
import { AuditHashChain1764400100000 } from './1764400100000-audit-hash-chain';
import { AuditPartitions1764400200000 } from './1764400200000-audit-partitions';
import { PromptManifest1764350000000 } from './1764350000000-prompt-manifest';
import { ModelPoolLimits1764400300000 } from './1764400300000-model-pool-limits';
import { RuntimeRoles1764450000000 } from './1764450000000-runtime-roles';
import { DurableAuditAndOutbox1764470100000 } from './1764470100000-durable-audit-and-outbox';
import { CardSuggestions1764480000000 } from './1764480000000-card-suggestions';
import { GovernanceDashboard1764490000000 } from './1764490000000-governance-dashboard';
import { InferenceQueueFunction1764500000000 } from './1764500000000-inference-queue-function';
import { HookStartFunction1764510000000 } from './1764510000000-hook-start-function';
import { JwtReplayClaim1764530000000 } from './1764530000000-jwt-replay-claim';
import { AuditChainWriterQueue1764540000000 } from './1764540000000-audit-chain-writer-queue';
import { HookAnswerClassificationTrigger1764540100000 } from './1764540100000-hook-answer-classification-trigger';
import { DatabaseConnect1764550000000 } from './1764550000000-database-connect';
import { AuditChainTail1764560000000 } from './1764560000000-audit-chain-tail';

/** Every migration, in order. Add new ones at the end. */
export const allMigrations = [
  InitialSchema1764090000000,
  CardsFeedbackReuse1764100000000,
  GatewayAuth1764200000000,
  InferenceRecordColumns1764310000000,
  PromptManifest1764350000000,
  AuditHashChain1764400100000,
  AuditPartitions1764400200000,
  ModelPoolLimits1764400300000,
  RuntimeRoles1764450000000,
  DurableAuditAndOutbox1764470100000,
  CardSuggestions1764480000000,
  GovernanceDashboard1764490000000,
  InferenceQueueFunction1764500000000,
  HookStartFunction1764510000000,
  JwtReplayClaim1764530000000,
  AuditChainWriterQueue1764540000000,
  HookAnswerClassificationTrigger1764540100000,
  DatabaseConnect1764550000000,
  AuditChainTail1764560000000,
];
