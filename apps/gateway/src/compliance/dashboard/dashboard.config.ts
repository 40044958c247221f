import { z } from 'zod';
import { parseEnv, positiveMs, type Env } from '@app/config';

/** The dashboard's own setting, validated at boot beside GATEWAY_* (like the compliance module's). */
export const dashboardEnv = z.object({
  /** How often closed hours are rolled up into `governance_hourly`. */
  DASHBOARD_ROLLUP_MS: positiveMs(60_000),
});

export function loadDashboardConfig(env: Env): z.infer<typeof dashboardEnv> {
  return parseEnv('gateway', dashboardEnv, env);
}
