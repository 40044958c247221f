import { auditEventHash, GENESIS_HASH } from '@app/audit';
import type { AuditChainRowInPlace } from '@app/database';

/**
 * Per row of one call's audit trail: `intact` when the row still hashes to its stored hash and links to the row just
 * before it in the chain; `altered` when its content no longer matches its hash; `link_broken` when the row before it
 * is not the one it was chained to (a row removed or inserted). The full walk stays `GET /compliance/audit-chain/verify`.
 */
export type AuditRowChainStatus = 'intact' | 'altered' | 'link_broken';

/** The chain status of each row (read with AuditChainRepository.rowsInPlace). */
export function checkAuditRows(rows: ReadonlyArray<AuditChainRowInPlace>): Map<string, AuditRowChainStatus> {
  const out = new Map<string, AuditRowChainStatus>();
  for (const r of rows) {
    if (auditEventHash(r.prevHash, r) !== r.hash) out.set(r.id, 'altered');
    else if (r.prevHash !== (r.before ?? GENESIS_HASH)) out.set(r.id, 'link_broken');
    else out.set(r.id, 'intact');
  }
  return out;
}
