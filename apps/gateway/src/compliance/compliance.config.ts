import { z } from 'zod';
import { parseEnv, positiveMs, type Env } from '@app/config';

/**
 * The compliance module's own environment, validated at boot beside GATEWAY_* (read from the process environment
 * because the gateway's config schema is owned by the gateway; fold it in there when convenient).
 */
export const complianceEnv = z.object({
  /** How often the audit chain head is logged and exported as a metric. */
  AUDIT_CHAIN_PUBLISH_MS: positiveMs(60_000),
  /** How often the gateway walks the whole audit chain on its own (0: only when asked through the API). */
  AUDIT_CHAIN_VERIFY_MS: z.coerce.number().int().min(0).default(0),
  /** How often partitions are created ahead and expired months purged. */
  AUDIT_MAINTENANCE_MS: positiveMs(86_400_000),
  /** Months of audit trail kept; HIPAA 164.316 asks for six years. */
  AUDIT_RETENTION_MONTHS: z.coerce.number().int().min(1).default(72),
  /** `false` keeps every month (partitions are still created). */
  AUDIT_RETENTION_PURGE: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Monthly partitions created ahead of time. */
  AUDIT_PARTITIONS_AHEAD: z.coerce.number().int().min(1).max(24).default(3),
  /** PKCS#8 PEM Ed25519 key signing chain checkpoints (a file or mounted Secret; never given to the database). */
  AUDIT_CHECKPOINT_KEY_FILE: z.string().optional(),
  /** Key id written with each checkpoint; defaults to one derived from the public key. */
  AUDIT_CHECKPOINT_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  /** JSON `{ "<key id>": "<SPKI PEM>" }` of every key whose checkpoints verify (old keys stay after a rotation). */
  AUDIT_CHECKPOINT_PUBLIC_KEYS_FILE: z.string().optional(),
  /** Append-only JSON-lines file every checkpoint is also written to, and compared with the table on verify. */
  AUDIT_CHECKPOINT_SINK_PATH: z.string().optional(),
});

export type ComplianceConfig = z.infer<typeof complianceEnv>;

export function loadComplianceConfig(env: Env): ComplianceConfig {
  return parseEnv('gateway', complianceEnv, env);
}
