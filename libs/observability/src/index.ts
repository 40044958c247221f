export * from './trace-context';
export * from './request-id';
export * from './logger.module';
export * from './http-app';
export * from './metrics-server';
