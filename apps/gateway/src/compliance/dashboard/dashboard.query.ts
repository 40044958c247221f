import { z } from 'zod';

const MAX_DAYS = 400;
const DAY_MS = 86_400_000;

/** A dashboard period: `from` inclusive, `to` exclusive (default the last 30 days), optionally one CDS service. */
export const dashboardQuerySchema = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    service: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/)
      .optional(),
  })
  .transform((q, ctx) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY_MS);
    if (from >= to) ctx.addIssue({ code: 'custom', message: 'from must be before to', path: ['from'] });
    if (to.getTime() - from.getTime() > MAX_DAYS * DAY_MS) {
      ctx.addIssue({ code: 'custom', message: `at most ${MAX_DAYS} days`, path: ['from'] });
    }
    return { from, to, service: q.service ?? null };
  });

export type DashboardQuery = z.output<typeof dashboardQuerySchema>;

/** The one panel exported alone as CSV: `GET /compliance/dashboard/<panel>.csv`. */
export const DASHBOARD_PANELS = [
  'cards',
  'feedback',
  'override-reasons',
  'answers',
  'latency',
  'reuse',
  'shadow',
  'clients',
  'volume',
] as const;
export type DashboardPanel = (typeof DASHBOARD_PANELS)[number];
