export * from './backoff';
export * from './periodic-task';
export * from './pause';
