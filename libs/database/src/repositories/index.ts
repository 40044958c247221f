export * from './card-feedback.repository';
export * from './data-access.module';
export * from './hook-invocation.repository';
export * from './inference.repository';
export * from './model-pool-limits.repository';
export * from './inference-outbox.repository';
