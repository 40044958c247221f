import type { AuditChainRepository } from '@app/database';
import { auditEventHash } from './audit-canonical';
import type { CheckpointPublicKeys } from './audit-checkpoint.keys';
import type { CheckpointSink } from './audit-checkpoint.sink';
import { verifyCheckpoints, type CheckpointVerification } from './audit-checkpoint.verifier';

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
  /** The chain is internally consistent and every checkpoint still holds. */
  readonly valid: boolean;
  readonly rowsChecked: number;
  readonly firstBreak: ChainBreak | null;
  readonly headId: string | null;
  readonly headHash: string;
  /** The chain against its signed checkpoints (what a rewrite by the database's own administrators cannot fake). */
  readonly checkpoints: CheckpointVerification;
  readonly durationMs: number;
}

export interface ChainVerifierOptions {
  readonly batchSize?: number;
  /** Public keys by key id; without any, checkpoints cannot verify. */
  readonly publicKeys?: CheckpointPublicKeys;
  /** Compared with the table when configured. */
  readonly sink?: CheckpointSink;
  /** Months retention keeps (AUDIT_RETENTION_MONTHS): checkpoints purged sooner are named. */
  readonly retainMonths?: number;
}

/**
 * Walks the chain in id order, in keyset batches (never the whole table in memory), recomputing every hash in
 * Node rather than trusting the database's function, names the first broken link, then checks the checkpoints.
 */
export class AuditChainVerifier {
  private readonly batchSize: number;

  constructor(
    private readonly repo: AuditChainRepository,
    private readonly opts: ChainVerifierOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 5000;
  }

  async verify(): Promise<ChainVerification> {
    const started = performance.now();
    // The head first: rows committed after it are left for the next run, so concurrent writers never look like a break.
    const head = await this.repo.head();
    const anchor = await this.repo.anchor();
    let prevId: string | null = anchor.throughId;
    let prevHash = anchor.hash;
    let checked = 0;
    const done = async (firstBreak: ChainBreak | null): Promise<ChainVerification> => {
      const checkpoints = await verifyCheckpoints(this.repo, this.opts.publicKeys ?? new Map(), anchor, {
        ...(this.opts.sink ? { sink: this.opts.sink } : {}),
        ...(this.opts.retainMonths !== undefined ? { retainMonths: this.opts.retainMonths } : {}),
      });
      return {
        valid: firstBreak === null && checkpoints.status !== 'failed',
        rowsChecked: checked,
        firstBreak,
        headId: head.lastId,
        headHash: head.lastHash,
        checkpoints,
        durationMs: Math.round(performance.now() - started),
      };
    };

    const upTo = head.lastId ?? '0';
    for (;;) {
      const rows = await this.repo.rowsAfter(prevId ?? '0', upTo, this.batchSize);
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
