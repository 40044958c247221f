export * from './ehr-client';
export * from './client-registry';
