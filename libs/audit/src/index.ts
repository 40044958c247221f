export * from './audit-record';
export * from './audit-writer';
export * from './audit-writer.options';
export * from './audit-exception';
export * from './audit-canonical';
export * from './audit-checkpoint.keys';
export * from './audit-checkpoint.sink';
export * from './audit-checkpoint.verifier';
export * from './audit-chain-head.publisher';
export * from './audit-chain.verifier';
export * from './audit.module';
export * from './audit-writer.metrics';
export * from './audit-inbox.drainer';
export * from './durable-spool';
export * from './audit-event-id';
export {
  batchInsert,
  queuedAuditRow,
  type AuditTarget,
  type QueuedAuditRow,
} from './audit-batch-insert';
