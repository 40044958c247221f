export * from './trace-context';
export * from './request-id';
export * from './logger.module';
export * from './http-app';
export * from './http-server-limits';
export * from './error-kind';
export * from './metrics-server';
export * from './tracing/spans';
