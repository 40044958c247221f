import type { DataSource } from 'typeorm';

export interface AuditChainHead {
  /** Id of the newest row; null on an empty chain. */
  readonly lastId: string | null;
  readonly lastHash: string;
  readonly updatedAt: Date;
}

/** The chain head as the database holds it (no lock: a snapshot for publishing and verification). */
export async function readChainHead(ds: DataSource): Promise<AuditChainHead> {
  const rows: Array<{ last_id: string | null; last_hash: string; updated_at: Date }> = await ds.query(
    `SELECT last_id::text AS last_id, last_hash, updated_at FROM audit_chain_head WHERE singleton`,
  );
  const row = rows[0];
  if (!row) throw new Error('audit_chain_head is empty: run the migrations');
  return { lastId: row.last_id, lastHash: row.last_hash, updatedAt: row.updated_at };
}
