import type { DataSource, EntityManager } from 'typeorm';

export interface PurgedPartition {
  readonly name: string;
  /** First day of the month the partition held (UTC), e.g. 2020-01-01. */
  readonly month: string;
  readonly rows: number;
}

export interface PurgeResult {
  readonly cutoff: string;
  readonly partitions: PurgedPartition[];
  /** The chain now starts after this id (the newest purged row); null when nothing was purged. */
  readonly anchorId: string | null;
}

const PARTITION = /^audit_events_y(\d{4})m(\d{2})$/;
/** One maintenance run at a time across every gateway replica. */
const MAINTENANCE_LOCK = 0x4d454401;

/**
 * Retention of the audit trail by whole monthly partitions. A purge drops only months entirely older than the
 * retention period, moves the chain anchor to the newest purged row (so verification starts there) and records
 * `audit.retention.purge`, all in one transaction.
 */
export class AuditRetention {
  constructor(private readonly ds: DataSource) {}

  /** Creates the partitions for this month and the next `monthsAhead`; returns how many were created. */
  async ensurePartitions(monthsAhead = 3): Promise<number> {
    const rows: Array<{ created: number }> = await this.ds.query(
      `SELECT audit_events_ensure_partitions($1) AS created`,
      [monthsAhead],
    );
    return rows[0]?.created ?? 0;
  }

  /** Drops every month that ended before `now - retainMonths` (UTC month boundaries). */
  async purge(retainMonths: number, now = new Date()): Promise<PurgeResult> {
    const cutoff = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - retainMonths, 1));
    return this.ds.transaction(async (m) => {
      const [{ locked }] = (await m.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [MAINTENANCE_LOCK])) as [
        { locked: boolean },
      ];
      if (!locked) return { cutoff: cutoff.toISOString(), partitions: [], anchorId: null };
      const expired = (await this.partitions(m)).filter((p) => nextMonth(p.month) <= cutoff);
      if (expired.length === 0) return { cutoff: cutoff.toISOString(), partitions: [], anchorId: null };

      const purged: PurgedPartition[] = [];
      let anchor: { id: string; hash: string } | null = null;
      for (const p of expired) {
        const [stats] = (await m.query(
          `SELECT count(*)::int AS rows, max(id)::text AS max_id FROM ${quoteIdent(p.name)}`,
        )) as [{ rows: number; max_id: string | null }];
        if (stats.max_id !== null && (anchor === null || BigInt(stats.max_id) > BigInt(anchor.id))) {
          const [row] = (await m.query(`SELECT hash FROM ${quoteIdent(p.name)} WHERE id = $1`, [stats.max_id])) as [
            { hash: string },
          ];
          anchor = { id: stats.max_id, hash: row.hash };
        }
        purged.push({ name: p.name, month: p.month.toISOString().slice(0, 10), rows: stats.rows });
      }
      if (anchor) {
        await m.query(
          `UPDATE audit_chain_anchor SET through_id = $1, hash = $2, updated_at = now()
           WHERE singleton AND (through_id IS NULL OR through_id < $1)`,
          [anchor.id, anchor.hash],
        );
      }
      for (const p of purged) {
        await m.query(`ALTER TABLE audit_events DETACH PARTITION ${quoteIdent(p.name)}`);
        await m.query(`DROP TABLE ${quoteIdent(p.name)}`);
      }
      // Written in the same transaction: the purge and its record commit together or not at all.
      await m.query(
        `INSERT INTO audit_events (recorded_at, action, outcome, service, detail)
         VALUES (now(), 'audit.retention.purge', 'success', 'gateway', $1::jsonb)`,
        [
          JSON.stringify({
            partitions: purged.map((p) => p.name).join(','),
            rows: purged.reduce((n, p) => n + p.rows, 0),
            retainMonths,
            cutoff: cutoff.toISOString(),
            anchorId: anchor?.id ?? null,
          }),
        ],
      );
      return { cutoff: cutoff.toISOString(), partitions: purged, anchorId: anchor?.id ?? null };
    });
  }

  /** Monthly partitions, oldest first (the default partition is never purged). */
  private async partitions(m: EntityManager): Promise<Array<{ name: string; month: Date }>> {
    const rows: Array<{ name: string }> = await m.query(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'audit_events'::regclass`,
    );
    return rows
      .map((r) => ({ name: r.name, match: PARTITION.exec(r.name) }))
      .filter((r): r is { name: string; match: RegExpExecArray } => r.match !== null)
      .map((r) => ({ name: r.name, month: new Date(Date.UTC(Number(r.match[1]), Number(r.match[2]) - 1, 1)) }))
      .sort((a, b) => a.month.getTime() - b.month.getTime());
  }
}

function nextMonth(month: Date): Date {
  return new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
}

/** Partition names come from the catalog and match PARTITION; quoted anyway. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
