import { z } from 'zod';
import { parseEnv, type Env } from '@app/config';
import { DEFAULT_AUDIT_SPOOL_DIR } from './audit-spool';

export interface AuditWriterOptions {
  /** Largest number of events in one INSERT. */
  readonly maxBatch: number;
  /** Longest an event waits for companions before its batch is written. */
  readonly maxDelayMs: number;
  /**
   * Longest an event admitted with `{ linger: true }` waits for a companion before it is written alone: it is queued
   * and spooled at once, but only a write that another event starts (or the end of its linger) takes it along.
   * 0: lingering events are written as any other.
   */
  readonly lingerMs: number;
  /** Events queued in memory at most; beyond it record() rejects with AUDIT_QUEUE_FULL. */
  readonly maxQueue: number;
  /**
   * Share of maxQueue that refusals (outcome `refused`, the events an attacker can cause at will) may hold: past
   * it a refusal is answered AUDIT_QUEUE_FULL while every other event still gets in, so a flood of refusals never
   * starves the events of real work.
   */
  readonly refusedShare: number;
  /** First retry delay of a failed batch; doubles up to retryMaxMs. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** How long close() keeps trying to flush before rejecting what is left. */
  readonly closeTimeoutMs: number;
  /**
   * Longest a caller waits for its event's commit (0: no limit), so a hook is never held by an audit outage.
   * Past it record() resolves when the event is in the spool (durable), else rejects with AUDIT_WRITE_TIMEOUT;
   * either way the event stays queued and is still written.
   */
  readonly maxWaitMs: number;
  /**
   * Root of the local durable spool (an event is fsynced there before it is queued; replayed at start-up), or
   * null for none (then a caller released by maxWaitMs holds an event that only memory holds).
   */
  readonly spoolDir: string | null;
  /** Spool bytes at most; beyond it record() rejects with AUDIT_QUEUE_FULL. */
  readonly spoolMaxBytes: number;
}

const schema = z.object({
  AUDIT_BATCH_MAX: z.coerce.number().int().min(1).max(1000).default(64),
  AUDIT_BATCH_DELAY_MS: z.coerce.number().int().min(0).max(1000).default(0),
  AUDIT_LINGER_MS: z.coerce.number().int().min(0).max(1000).default(200),
  AUDIT_QUEUE_MAX: z.coerce.number().int().min(1).default(10_000),
  AUDIT_REFUSED_SHARE: z.coerce.number().min(0.05).max(1).default(0.5),
  AUDIT_RETRY_BASE_MS: z.coerce.number().int().min(1).default(50),
  AUDIT_RETRY_MAX_MS: z.coerce.number().int().min(1).default(2000),
  AUDIT_CLOSE_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  AUDIT_MAX_WAIT_MS: z.coerce.number().int().min(0).default(3000),
  /** `off` disables the spool. */
  AUDIT_SPOOL_DIR: z.string().min(1).default(DEFAULT_AUDIT_SPOOL_DIR),
  AUDIT_SPOOL_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(65_536)
    .default(256 * 1024 * 1024),
});

/** The writer's bounds from the environment (every app constructs its writer the same way). */
export function auditWriterOptionsFromEnv(env: Env): AuditWriterOptions {
  const c = parseEnv('audit', schema, env);
  return {
    maxBatch: c.AUDIT_BATCH_MAX,
    maxDelayMs: c.AUDIT_BATCH_DELAY_MS,
    lingerMs: c.AUDIT_LINGER_MS,
    maxQueue: c.AUDIT_QUEUE_MAX,
    refusedShare: c.AUDIT_REFUSED_SHARE,
    retryBaseMs: c.AUDIT_RETRY_BASE_MS,
    retryMaxMs: c.AUDIT_RETRY_MAX_MS,
    closeTimeoutMs: c.AUDIT_CLOSE_TIMEOUT_MS,
    maxWaitMs: c.AUDIT_MAX_WAIT_MS,
    spoolDir: c.AUDIT_SPOOL_DIR === 'off' ? null : c.AUDIT_SPOOL_DIR,
    spoolMaxBytes: c.AUDIT_SPOOL_MAX_BYTES,
  };
}
