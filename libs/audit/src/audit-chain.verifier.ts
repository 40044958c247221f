import type { DataSource } from 'typeorm';
import { auditEventHash, type CanonicalAuditRow } from './audit-canonical';
import { readChainHead } from './audit-chain-head';

export type ChainBreakReason =
  /** The row's content (or its stored prev_hash) no longer hashes to its stored hash: the row was altered. */
  | 'content_hash_mismatch'
  /** The row's prev_hash is not the previous row's hash: a row before it was removed, inserted or re-hashed. */
  | 'prev_link_mismatch'
  /** The newest row is not the published chain head: rows at the end were removed. */
  | 'head_mismatch';

export interface ChainBreak {
  readonly id: string | null;
  readonly reason: ChainBreakReason;
  /** The row whose hash the link should have matched (prev_link_mismatch), or the head's id. */
  readonly expectedAfterId: string | null;
}

export interface ChainVerification {
  readonly valid: boolean;
  readonly rowsChecked: number;
  readonly firstBreak: ChainBreak | null;
  readonly headId: string | null;
  readonly headHash: string;
  readonly durationMs: number;
}

interface ChainRow extends CanonicalAuditRow {
  readonly prevHash: string;
  readonly hash: string;
}

const SELECT_BATCH = `
  SELECT id::text AS "id", ((extract(epoch FROM recorded_at) * 1000000)::bigint)::text AS "recordedAtUs",
         action AS "action", outcome AS "outcome", service AS "service", actor AS "actor", client_id AS "clientId",
         tenant AS "tenant", patient_ref AS "patientRef", request_id AS "requestId",
         hook_instance::text AS "hookInstance", detail::text AS "detail", prev_hash AS "prevHash", hash AS "hash"
  FROM audit_events WHERE audit_events.id > $1 AND audit_events.id <= $2 ORDER BY audit_events.id LIMIT $3`;

/**
 * Walks the chain in id order, in keyset batches (never the whole table in memory), recomputing every hash in
 * Node rather than trusting the database's function, and names the first broken link.
 */
export class AuditChainVerifier {
  constructor(
    private readonly ds: DataSource,
    private readonly batchSize = 5000,
  ) {}

  async verify(): Promise<ChainVerification> {
    const started = performance.now();
    // The head first: rows committed after it are left for the next run, so concurrent writers never look like a break.
    const head = await readChainHead(this.ds);
    const anchors: Array<{ through_id: string | null; hash: string }> = await this.ds.query(
      `SELECT through_id::text AS through_id, hash FROM audit_chain_anchor WHERE singleton`,
    );
    let prevId: string | null = anchors[0]?.through_id ?? null;
    let prevHash = anchors[0]?.hash ?? '0'.repeat(64);
    let checked = 0;
    const done = (firstBreak: ChainBreak | null): ChainVerification => ({
      valid: firstBreak === null,
      rowsChecked: checked,
      firstBreak,
      headId: head.lastId,
      headHash: head.lastHash,
      durationMs: Math.round(performance.now() - started),
    });

    const upTo = head.lastId ?? '0';
    for (;;) {
      const rows: ChainRow[] = await this.ds.query(SELECT_BATCH, [prevId ?? '0', upTo, this.batchSize]);
      for (const row of rows) {
        if (row.prevHash !== prevHash) {
          return done({ id: row.id, reason: 'prev_link_mismatch', expectedAfterId: prevId });
        }
        if (auditEventHash(row.prevHash, row) !== row.hash) {
          return done({ id: row.id, reason: 'content_hash_mismatch', expectedAfterId: prevId });
        }
        checked++;
        prevId = row.id;
        prevHash = row.hash;
      }
      if (rows.length < this.batchSize) break;
    }
    if (head.lastId !== null && (prevId !== head.lastId || prevHash !== head.lastHash)) {
      return done({ id: prevId, reason: 'head_mismatch', expectedAfterId: head.lastId });
    }
    return done(null);
  }
}
