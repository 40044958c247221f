import { appendFile, readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { AuditCheckpoint } from '@app/database';

/** Somewhere outside the database that keeps every checkpoint (ideally append-only, out of the DBA's reach). */
export interface CheckpointSink {
  readonly kind: string;
  append(c: AuditCheckpoint): Promise<void>;
  /** Every checkpoint the sink holds, for comparison with the table. */
  readAll(): Promise<AuditCheckpoint[]>;
}

const line = z.object({
  keyId: z.string(),
  headId: z.string().regex(/^\d+$/),
  headHash: z.string().regex(/^[0-9a-f]{64}$/),
  signedAt: z.string(),
  signature: z.string(),
});

/**
 * One JSON line per checkpoint, appended (O_APPEND). Point it at storage the database's administrators cannot
 * rewrite (a WORM bucket mount, a log shipper's spool) for it to count as outside their reach.
 */
export class FileCheckpointSink implements CheckpointSink {
  readonly kind = 'file';

  constructor(private readonly path: string) {}

  async append(c: AuditCheckpoint): Promise<void> {
    const { keyId, headId, headHash, signedAt, signature } = c;
    await appendFile(this.path, `${JSON.stringify({ keyId, headId, headHash, signedAt, signature })}\n`, {
      flag: 'a',
    });
  }

  async readAll(): Promise<AuditCheckpoint[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    // A torn last line (crash mid-append) is skipped; every other line must parse.
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const out: AuditCheckpoint[] = [];
    lines.forEach((l, i) => {
      try {
        out.push(line.parse(JSON.parse(l)));
      } catch (e) {
        if (i < lines.length - 1) throw new Error(`checkpoint sink line ${i + 1} is not a checkpoint`, { cause: e });
      }
    });
    return out;
  }
}
