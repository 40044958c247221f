import type { DataSource } from 'typeorm';
import { auditEventHash, GENESIS_HASH } from '@app/audit';

/**
 * Per row of one call's audit trail: `intact` when the row still hashes to its stored hash and links to the row just
 * before it in the chain; `altered` when its content no longer matches its hash; `link_broken` when the row before it
 * is not the one it was chained to (a row removed or inserted). The full walk stays `GET /compliance/audit-chain/verify`.
 */
export type AuditRowChainStatus = 'intact' | 'altered' | 'link_broken';

interface Row {
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
  /** The hash of the row before it by id, or the purge anchor's, or null at the start of the chain. */
  readonly before: string | null;
}

const SELECT = `
  SELECT e.id::text AS "id", ((extract(epoch FROM e.recorded_at) * 1000000)::bigint)::text AS "recordedAtUs",
         e.action AS "action", e.outcome AS "outcome", e.service AS "service", e.actor AS "actor",
         e.client_id AS "clientId", e.tenant AS "tenant", e.patient_ref AS "patientRef", e.request_id AS "requestId",
         e.hook_instance::text AS "hookInstance", e.detail::text AS "detail", e.prev_hash AS "prevHash", e.hash AS "hash",
         coalesce((SELECT p.hash FROM audit_events p WHERE p.id < e.id ORDER BY p.id DESC LIMIT 1),
                  (SELECT a.hash FROM audit_chain_anchor a WHERE a.singleton)) AS "before"
    FROM audit_events e WHERE e.id = ANY($1::bigint[])`;

export async function checkAuditRows(
  ds: DataSource,
  ids: ReadonlyArray<string>,
): Promise<Map<string, AuditRowChainStatus>> {
  const out = new Map<string, AuditRowChainStatus>();
  if (ids.length === 0) return out;
  const rows: Row[] = await ds.query(SELECT, [ids]);
  for (const r of rows) {
    if (auditEventHash(r.prevHash, r) !== r.hash) out.set(r.id, 'altered');
    else if (r.prevHash !== (r.before ?? GENESIS_HASH)) out.set(r.id, 'link_broken');
    else out.set(r.id, 'intact');
  }
  return out;
}
