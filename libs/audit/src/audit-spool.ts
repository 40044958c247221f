import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import type { QueuedAuditRow } from './audit-batch-insert';
import { DurableSpool } from './durable-spool';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const spooledRow = z.object({
  eventId: z.string().uuid(),
  recordedAt: z.coerce.date(),
  action: z.string(),
  outcome: z.enum(['success', 'failure', 'refused']),
  service: z.enum(['gateway', 'cds-hooks', 'inference-proxy']),
  actor: z.string().nullish(),
  clientId: z.string().nullish(),
  tenant: z.string().nullish(),
  patientRef: z.string().nullish(),
  requestId: z.string().nullish(),
  hookInstance: z.string().nullish(),
  detail: z.record(z.string(), scalar).optional(),
});

/** The default spool root: the pod's writable volume (an emptyDir at /tmp in the chart). */
export const DEFAULT_AUDIT_SPOOL_DIR = path.join(tmpdir(), 'meditron-audit-spool');

/**
 * The directory for one database's spool: events are replayed only into the database they were meant for
 * (several apps and test databases may share one machine and one root). Keyed by the database's name, not its
 * address, so after a failover to a new primary address the spool is still found and replayed there.
 */
export function auditSpoolDir(root: string, dataSource: DataSource): string {
  const o = (dataSource as Partial<DataSource>).options as { url?: string; database?: string } | undefined;
  const name = o?.url ? new URL(o.url).pathname.replace(/^\//, '') : o?.database;
  const key = name ? createHash('sha256').update(name).digest('hex').slice(0, 16) : 'default';
  return path.join(root, key);
}

export function openAuditSpool(dir: string, maxBytes: number): DurableSpool<QueuedAuditRow> {
  return new DurableSpool<QueuedAuditRow>({ dir, maxBytes, segmentBytes: Math.min(4 << 20, maxBytes) }, (json) => {
    const r = spooledRow.safeParse(json);
    return r.success ? r.data : undefined;
  });
}
