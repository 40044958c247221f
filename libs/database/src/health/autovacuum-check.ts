/**
 * A warning at start when the database does not vacuum by itself. The hook path leaves dead row versions on every
 * call (each outbox row is inserted and deleted, each inference request and hook invocation updated, the audit
 * chain's tail trimmed); without autovacuum they pile up, every call grows slower and, near capacity, the audit
 * chain's writers fall behind while the load lasts (bench/results-issue-17-stall-vacuum.md). Postgres enables it by
 * default; this only says so when someone turned it off. The line carries no data from the database but the setting.
 */

/** The tables whose dead versions grow with every hook call: what to watch (and what the runbook names). */
export const HOT_PATH_TABLES: readonly string[] = [
  'inference_outbox',
  'inference_requests',
  'hook_invocations',
  'audit_chain_tail',
];

export type RunQuery = (sql: string) => Promise<ReadonlyArray<Record<string, unknown>>>;

export interface WarningSink {
  warn(message: string): void;
}

/** Returns whether the server runs autovacuum; warns once through `sink` when it does not. */
export async function checkAutovacuum(query: RunQuery, sink: WarningSink): Promise<boolean> {
  const rows = await query("SELECT current_setting('autovacuum') AS autovacuum");
  const on = rows[0]?.autovacuum === 'on';
  if (!on) {
    sink.warn(
      'Postgres runs with autovacuum = off: the hook path leaves dead row versions on every call ' +
        `(${HOT_PATH_TABLES.join(', ')}) and calls will slow down until they are vacuumed; ` +
        'turn autovacuum on or schedule VACUUM (runbook: MeditronConsumerLagHigh in deploy/helm/README.md)',
    );
  }
  return on;
}
