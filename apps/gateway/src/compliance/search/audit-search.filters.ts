/** What a compliance search can filter on; every field is optional and they combine with AND. */
export interface AuditSearchFilters {
  readonly patient?: string;
  /** Inclusive lower bound on recorded_at. */
  readonly from?: Date;
  /** Exclusive upper bound on recorded_at. */
  readonly to?: Date;
  readonly client?: string;
  readonly actor?: string;
  /** Matches actor or client (FHIR `agent`). */
  readonly agent?: string;
  readonly actions?: ReadonlyArray<string>;
  readonly excludeActions?: ReadonlyArray<string>;
  readonly outcome?: 'success' | 'failure' | 'refused';
  readonly hookInstance?: string;
  readonly requestId?: string;
}

/** The names of the filters used, for the audit row and logs (never their values). */
export function filterNames(f: AuditSearchFilters): string {
  return (Object.keys(f) as Array<keyof AuditSearchFilters>)
    .filter((k) => f[k] !== undefined)
    .sort()
    .join(',');
}
