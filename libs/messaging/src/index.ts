export * from './inference-transport';
export * from './in-process-bus';
export * from './kafka-client';
export * from './kafka-dispatcher';
export * from './kafka-request-source';
export * from './pg-result-signal';
export * from './messaging.module';
