/** Kept back from the gateway's own timeout, so the answer is on its way before the gateway gives up. */
export const UPSTREAM_MARGIN_MS = 250;

/**
 * When a hook call must be answered at the latest (epoch ms): its service budget from arrival, or earlier when the
 * gateway (UPSTREAM_TIMEOUT_HEADER) gives up sooner than that. A missing or malformed header leaves the budget.
 */
export function hookDeadline(
  arrivalMs: number,
  budgetMs: number,
  upstreamTimeout: string | string[] | undefined,
): number {
  return Math.min(arrivalMs + budgetMs, upstreamLimit(arrivalMs, upstreamTimeout) ?? Infinity);
}

/** The last moment to answer before the gateway gives up (epoch ms); undefined without a usable header. */
export function upstreamLimit(arrivalMs: number, upstreamTimeout: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(upstreamTimeout) ? upstreamTimeout[0] : upstreamTimeout;
  if (raw === undefined || !/^\d{1,7}$/.test(raw)) return undefined;
  return arrivalMs + Math.max(0, Number(raw) - UPSTREAM_MARGIN_MS);
}
