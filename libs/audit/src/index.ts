export * from './audit-record';
export * from './audit-writer';
