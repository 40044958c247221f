import type { AuditSearchFilters } from '@app/database';

export type { AuditSearchFilters } from '@app/database';

/** The names of the filters used, for the audit row and logs (never their values). */
export function filterNames(f: AuditSearchFilters): string {
  return (Object.keys(f) as Array<keyof AuditSearchFilters>)
    .filter((k) => f[k] !== undefined)
    .sort()
    .join(',');
}
