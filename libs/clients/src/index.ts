export * from './ehr-client';
export * from './client-registry';
export * from './client-store';
export * from './client-file-store';
export * from './client-table-store';
export * from './load-registry';
export * from './client-registry-cache.service';
export * from './clients.module';
