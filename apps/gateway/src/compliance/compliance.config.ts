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
});

export type ComplianceConfig = z.infer<typeof complianceEnv>;

export function loadComplianceConfig(env: Env): ComplianceConfig {
  return parseEnv('gateway', complianceEnv, env);
}
