export * from './entities';
export * from './data-source';
export * from './embedded-postgres';
export * from './health/database-health.controller';
export * from './transient-retry';
export * from './database.module';
export * from './repositories';
export * from './roles/runtime-roles';
export { hotQuery, statementName, MAX_PREPARED_TEXTS } from './statements/hot-query';
