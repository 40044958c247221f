import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';

/** The chain head as the database holds it (a snapshot, no lock). */
export interface AuditChainHead {
  /** Id of the newest row; null on an empty chain. */
  readonly lastId: string | null;
  readonly lastHash: string;
  readonly updatedAt: Date;
}

/** Where the chain starts: genesis (throughId null), or the newest row of the newest purged partition. */
export interface AuditChainAnchor {
  readonly throughId: string | null;
  readonly hash: string;
}

/** One audit row in the chain's text form (see the hash-chain migration and libs/audit audit-canonical.ts). */
export interface AuditChainRow {
  readonly id: string;
  readonly recordedAtUs: string;
  readonly action: string;
  readonly outcome: string;
  readonly service: string;
  readonly actor: string | null;
  readonly clientId: string | null;
  readonly tenant: string | null;
  readonly patientRef: string | null;
  readonly requestId: string | null;
  readonly hookInstance: string | null;
  readonly detail: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** A chain row with the hash of the row before it by id (or the purge anchor's; null at the start of the chain). */
export interface AuditChainRowInPlace extends AuditChainRow {
  readonly before: string | null;
}

/** A signed statement "the chain head was (headId, headHash) at signedAt", as stored and as sent to a sink. */
export interface AuditCheckpoint {
  readonly keyId: string;
  readonly headId: string;
  readonly headHash: string;
  /** ISO 8601, millisecond precision (part of the signed text). */
  readonly signedAt: string;
  /** Ed25519 signature, base64url. */
  readonly signature: string;
}

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

const purgeResult = z.object({
  cutoff: z.string(),
  partitions: z.array(z.object({ name: z.string(), month: z.string(), rows: z.coerce.number() })),
  anchorId: z.string().nullable(),
});

const SQL = {
  /** The newest tail row (migration 1764560000000); id 0 is genesis, an empty chain. */
  head: `SELECT nullif(t.id, 0)::text AS "lastId", t.hash AS "lastHash", t.at AS "updatedAt"
         FROM audit_chain_tail t ORDER BY t.id DESC LIMIT 1`,
  anchor: `SELECT through_id::text AS "throughId", hash FROM audit_chain_anchor WHERE singleton`,
  /** Keyset batch in id order, every value in the text form the hash covers. */
  rows: `
    SELECT id::text AS "id", ((extract(epoch FROM recorded_at) * 1000000)::bigint)::text AS "recordedAtUs",
           action AS "action", outcome AS "outcome", service AS "service", actor AS "actor",
           client_id AS "clientId", tenant AS "tenant", patient_ref AS "patientRef", request_id AS "requestId",
           hook_instance::text AS "hookInstance", detail::text AS "detail", prev_hash AS "prevHash", hash AS "hash"
    FROM audit_events WHERE audit_events.id > $1 AND audit_events.id <= $2 ORDER BY audit_events.id LIMIT $3`,
  /** Given rows, each with the hash of its predecessor (the card explanation's per-row chain check). */
  rowsInPlace: `
    SELECT e.id::text AS "id", ((extract(epoch FROM e.recorded_at) * 1000000)::bigint)::text AS "recordedAtUs",
           e.action AS "action", e.outcome AS "outcome", e.service AS "service", e.actor AS "actor",
           e.client_id AS "clientId", e.tenant AS "tenant", e.patient_ref AS "patientRef", e.request_id AS "requestId",
           e.hook_instance::text AS "hookInstance", e.detail::text AS "detail", e.prev_hash AS "prevHash", e.hash AS "hash",
           coalesce((SELECT p.hash FROM audit_events p WHERE p.id < e.id ORDER BY p.id DESC LIMIT 1),
                    (SELECT a.hash FROM audit_chain_anchor a WHERE a.singleton)) AS "before"
      FROM audit_events e WHERE e.id = ANY($1::bigint[])`,
  hashesOf: `SELECT id::text AS id, hash FROM audit_events WHERE id = ANY($1::bigint[])`,
  insertCheckpoint: `
    INSERT INTO audit_chain_checkpoints (key_id, head_id, head_hash, signed_at, signature)
    VALUES ($1, $2, $3, $4, $5)`,
  checkpoints: `
    SELECT key_id AS "keyId", head_id::text AS "headId", head_hash AS "headHash",
           to_char(signed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "signedAt", signature
    FROM audit_chain_checkpoints ORDER BY head_id, id`,
  ensurePartitions: `SELECT audit_events_ensure_partitions($1) AS created`,
  /** SECURITY DEFINER routine (runtime-roles migration): refuses anything inside the legal minimum. */
  purge: `SELECT audit_retention_purge($1) AS result`,
} as const;

/**
 * The audit trail's chain tables, in one place: head, anchor, the rows in chain order, the signed checkpoints and
 * the partition and retention routines. Writes go only through the paths a runtime role is granted (the chain
 * trigger, the checkpoint INSERT, the SECURITY DEFINER routines).
 */
@Injectable()
export class AuditChainRepository {
  constructor(private readonly ds: DataSource) {}

  async head(): Promise<AuditChainHead> {
    const rows: AuditChainHead[] = await this.ds.query(SQL.head);
    const row = rows[0];
    if (!row) throw new Error('audit_chain_tail is empty: run the migrations');
    return row;
  }

  async anchor(): Promise<AuditChainAnchor> {
    const rows: AuditChainAnchor[] = await this.ds.query(SQL.anchor);
    return rows[0] ?? { throughId: null, hash: '0'.repeat(64) };
  }

  /** Rows with afterId < id <= upToId, oldest first, at most `limit`. */
  rowsAfter(afterId: string, upToId: string, limit: number): Promise<AuditChainRow[]> {
    return this.ds.query(SQL.rows, [afterId, upToId, limit]);
  }

  /** These rows (those that still exist), each with the hash of the row before it in the chain. */
  async rowsInPlace(ids: ReadonlyArray<string>): Promise<AuditChainRowInPlace[]> {
    if (ids.length === 0) return [];
    return this.ds.query(SQL.rowsInPlace, [ids]);
  }

  /** The stored hash of each id that still exists. */
  async hashesOf(ids: ReadonlyArray<string>): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows: Array<{ id: string; hash: string }> = await this.ds.query(SQL.hashesOf, [ids]);
    return new Map(rows.map((r) => [r.id, r.hash]));
  }

  async insertCheckpoint(c: AuditCheckpoint): Promise<void> {
    await this.ds.query(SQL.insertCheckpoint, [c.keyId, c.headId, c.headHash, c.signedAt, c.signature]);
  }

  /** Every stored checkpoint, by chain position. */
  checkpoints(): Promise<AuditCheckpoint[]> {
    return this.ds.query(SQL.checkpoints);
  }

  /** Creates the partitions for this month and the next `monthsAhead`; returns how many were created. */
  async ensurePartitions(monthsAhead: number): Promise<number> {
    const rows: Array<{ created: number }> = await this.ds.query(SQL.ensurePartitions, [monthsAhead]);
    return rows[0]?.created ?? 0;
  }

  /** Drops whole months older than `retainMonths` through the retention routine (see the migration). */
  async purge(retainMonths: number): Promise<PurgeResult> {
    const rows: Array<{ result: unknown }> = await this.ds.query(SQL.purge, [retainMonths]);
    return purgeResult.parse(rows[0]?.result);
  }
}
