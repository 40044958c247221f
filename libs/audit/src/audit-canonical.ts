import { createHash } from 'node:crypto';
import type { AuditChainRow } from '@app/database';

/** The genesis link: what the first row of a never-purged chain points back to. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * One row as the chain hashes it, every value in its text form (see the hash-chain migration): the repository's
 * row without its links (`recordedAtUs` is UTC epoch microseconds; `detail` is jsonb's own text form).
 */
export type CanonicalAuditRow = Omit<AuditChainRow, 'prevHash' | 'hash'>;

function field(v: string | null): string {
  return v === null ? '~' : `${Buffer.byteLength(v, 'utf8')}:${v}`;
}

/** Mirrors the database's `audit_event_hash()` so verification does not trust the database's own function. */
export function auditEventHash(prevHash: string, r: CanonicalAuditRow): string {
  const text = [
    prevHash,
    field(r.id),
    field(r.recordedAtUs),
    field(r.action),
    field(r.outcome),
    field(r.service),
    field(r.actor),
    field(r.clientId),
    field(r.tenant),
    field(r.patientRef),
    field(r.requestId),
    field(r.hookInstance),
    field(r.detail),
  ].join('|');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
