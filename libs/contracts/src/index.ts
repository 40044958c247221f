export * from './topics';
export * from './message-headers';
export * from './inference-request.v1';
export * from './inference-result';
export * from './dead-letter.v1';
export * from './service-id';
export * from './upstream-timeout';
