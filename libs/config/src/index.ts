export * from './config-error';
export * from './parse-env';
export * from './env-fields';
export * from './inference-backends';
export * from './standalone';
export * from './kafka-security';
export * from './config.module';
