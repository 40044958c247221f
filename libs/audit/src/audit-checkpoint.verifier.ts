import type { AuditChainAnchor, AuditChainRepository, AuditCheckpoint } from '@app/database';
import { checkSignature, type CheckpointPublicKeys } from './audit-checkpoint.keys';
import type { CheckpointSink } from './audit-checkpoint.sink';

export type CheckpointFailureReason =
  /** No configured public key has the checkpoint's key id. */
  | 'unknown_key'
  /** The signature does not match: the checkpoint was forged or altered. */
  | 'bad_signature'
  /** The checkpointed row is gone: rows were deleted (or the head moved back). */
  | 'row_missing'
  /** The checkpointed row now has another hash: it, or a row before it, was rewritten and the chain recomputed. */
  | 'hash_mismatch'
  /** The external sink holds a checkpoint the table no longer has: a checkpoint row was deleted. */
  | 'missing_from_table'
  /** The chain's anchor was moved past a checkpoint signed inside the retention period: rows were dropped early. */
  | 'purged_within_retention';

export type CheckpointRef = Omit<AuditCheckpoint, 'signature'>;

export interface CheckpointFailure {
  readonly checkpoint: CheckpointRef;
  readonly reason: CheckpointFailureReason;
  /**
   * For row_missing / hash_mismatch: rows after this id (the newest earlier checkpoint that still verifies, or the
   * anchor; null = the chain's start) up to the checkpoint's headId were rewritten or removed.
   */
  readonly rewrittenAfterId: string | null;
}

export interface CheckpointVerification {
  /** not_configured: no public keys and no checkpoints. */
  readonly status: 'verified' | 'failed' | 'not_configured';
  /** Distinct checkpoints checked (table and sink together). */
  readonly checked: number;
  /** Checkpoints whose rows retention has purged (not checkable any more). */
  readonly beforeAnchor: number;
  /** The newest checkpoint whose signature and (id, hash) both hold. */
  readonly lastVerified: CheckpointRef | null;
  /** Every failure, oldest chain position first (at most MAX_FAILURES). */
  readonly failures: CheckpointFailure[];
  /** The external sink compared with the table, or null when none is configured. */
  readonly sink: string | null;
  /** Table rows the sink lacks (a sink write that failed, or a row added behind the app's back). */
  readonly notInSink: number;
}

const MAX_FAILURES = 50;
const identity = (c: AuditCheckpoint) => `${c.keyId}|${c.headId}|${c.headHash}|${c.signedAt}|${c.signature}`;
const ref = ({ keyId, headId, headHash, signedAt }: AuditCheckpoint): CheckpointRef => ({
  keyId,
  headId,
  headHash,
  signedAt,
});

/**
 * Checks every checkpoint (the table's and the sink's) against the configured public keys and the chain as it is
 * now. A superuser can rewrite rows, recompute the chain and move the head, but cannot sign: every checkpoint taken
 * before the rewrite then names it.
 */
export interface CheckpointCheckOptions {
  readonly sink?: CheckpointSink;
  /**
   * Months retention keeps: a checkpoint behind the anchor (its rows purged) must have been signed before the
   * purge cutoff; one signed since means the anchor was moved to hide rows (or the trail sat idle a whole month).
   */
  readonly retainMonths?: number;
  readonly now?: Date;
}

export async function verifyCheckpoints(
  repo: AuditChainRepository,
  keys: CheckpointPublicKeys,
  anchor: AuditChainAnchor,
  opts: CheckpointCheckOptions = {},
): Promise<CheckpointVerification> {
  const { sink } = opts;
  const stored = await repo.checkpoints();
  const inTable = new Set(stored.map(identity));
  const fromSink = sink ? await sink.readAll() : [];
  const inSink = new Set(fromSink.map(identity));
  const all = new Map<string, AuditCheckpoint>();
  for (const c of [...stored, ...fromSink]) all.set(identity(c), c);
  const ordered = [...all.values()].sort((a, b) => cmpId(a.headId, b.headId) || a.signedAt.localeCompare(b.signedAt));
  if (keys.size === 0 && ordered.length === 0) {
    return {
      status: 'not_configured',
      checked: 0,
      beforeAnchor: 0,
      lastVerified: null,
      failures: [],
      sink: null,
      notInSink: 0,
    };
  }

  const live = ordered.filter((c) => anchor.throughId === null || cmpId(c.headId, anchor.throughId) > 0);
  const hashes = await repo.hashesOf([...new Set(live.map((c) => c.headId))]);
  const failures: CheckpointFailure[] = [];
  let lastVerified: AuditCheckpoint | null = null;
  const fail = (c: AuditCheckpoint, reason: CheckpointFailureReason, rewrittenAfterId: string | null) => {
    if (failures.length < MAX_FAILURES) failures.push({ checkpoint: ref(c), reason, rewrittenAfterId });
  };
  if (opts.retainMonths !== undefined) {
    const now = opts.now ?? new Date();
    const cutoff = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - opts.retainMonths, 1)).toISOString();
    for (const c of ordered) {
      if (!live.includes(c) && c.signedAt >= cutoff && checkSignature(c, keys) === 'ok') {
        fail(c, 'purged_within_retention', null);
      }
    }
  }
  for (const c of live) {
    if (sink && !inTable.has(identity(c))) fail(c, 'missing_from_table', null);
    const signature = checkSignature(c, keys);
    if (signature !== 'ok') {
      fail(c, signature, null);
      continue;
    }
    const now = hashes.get(c.headId);
    if (now === c.headHash) {
      lastVerified = c;
      continue;
    }
    fail(c, now === undefined ? 'row_missing' : 'hash_mismatch', lastVerified?.headId ?? anchor.throughId);
  }
  return {
    status: failures.length > 0 ? 'failed' : 'verified',
    checked: ordered.length,
    beforeAnchor: ordered.length - live.length,
    lastVerified: lastVerified ? ref(lastVerified) : null,
    failures,
    sink: sink?.kind ?? null,
    notInSink: sink ? stored.filter((c) => !inSink.has(identity(c))).length : 0,
  };
}

function cmpId(a: string, b: string): number {
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
