export * from './card-feedback.repository';
export * from './data-access.module';
export * from './hook-invocation.repository';
export * from './inference.repository';
export * from './model-pool-limits.repository';
export * from './audit-chain.repository';
export * from './audit-event.repository';
export * from './card-provenance.repository';
