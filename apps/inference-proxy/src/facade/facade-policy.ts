import { z } from 'zod';
import { callerId } from './facade-caller';

/**
 * What one facade key may ask of the GPU pool. Defaults come from FACADE_* settings; FACADE_KEY_POLICIES
 * overrides them per key, named by caller id (`key:<12 hex>`, as the audit trail shows it) so the secret is
 * written down only once, in FACADE_API_KEYS.
 */
export const keyPolicySchema = z.strictObject({
  requestsPerWindow: z.number().int().positive().optional(),
  tokensPerWindow: z.number().int().positive().optional(),
  /** May pass vLLM's `priority` through (scheduling ahead of other callers). Default false: stripped. */
  priority: z.boolean().optional(),
});

export const keyPoliciesSchema = z
  .string()
  .default('{}')
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'FACADE_KEY_POLICIES must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().regex(/^key:[0-9a-f]{12}$/, 'keys are caller ids, key:<12 hex>'), keyPolicySchema));

export interface FacadeLimits {
  readonly windowMs: number;
  readonly requestsPerWindow: number;
  /** Tokens one key may reserve (max_tokens x max(n, best_of)) or, once known, use, per window. */
  readonly tokensPerWindow: number;
  readonly maxTokens: number;
  readonly maxN: number;
  readonly maxBestOf: number;
}

export interface ResolvedKeyPolicy {
  readonly requestsPerWindow: number;
  readonly tokensPerWindow: number;
  readonly priority: boolean;
}

export interface FacadePolicy {
  readonly limits: FacadeLimits;
  forCaller(caller: string): ResolvedKeyPolicy;
}

export function facadePolicy(
  limits: FacadeLimits,
  perKey: Readonly<Record<string, z.infer<typeof keyPolicySchema>>>,
): FacadePolicy {
  return {
    limits,
    forCaller: (caller) => {
      const own = perKey[caller] ?? {};
      return {
        requestsPerWindow: own.requestsPerWindow ?? limits.requestsPerWindow,
        tokensPerWindow: own.tokensPerWindow ?? limits.tokensPerWindow,
        priority: own.priority ?? false,
      };
    },
  };
}

/** Boot check: a policy for a caller id no configured key has is a typo that would silently not apply. */
export function unknownPolicyCallers(keys: ReadonlyArray<string>, perKey: Readonly<Record<string, unknown>>): string[] {
  const known = new Set(keys.map(callerId));
  return Object.keys(perKey).filter((id) => !known.has(id));
}

/** The policy the config describes (FACADE_* settings). */
export function facadePolicyOf(c: {
  FACADE_WINDOW_MS: number;
  FACADE_REQUESTS_PER_WINDOW: number;
  FACADE_TOKENS_PER_WINDOW: number;
  FACADE_MAX_TOKENS: number;
  FACADE_MAX_N: number;
  FACADE_MAX_BEST_OF: number;
  FACADE_KEY_POLICIES: Readonly<Record<string, z.infer<typeof keyPolicySchema>>>;
}): FacadePolicy {
  return facadePolicy(
    {
      windowMs: c.FACADE_WINDOW_MS,
      requestsPerWindow: c.FACADE_REQUESTS_PER_WINDOW,
      tokensPerWindow: c.FACADE_TOKENS_PER_WINDOW,
      maxTokens: c.FACADE_MAX_TOKENS,
      maxN: c.FACADE_MAX_N,
      maxBestOf: c.FACADE_MAX_BEST_OF,
    },
    c.FACADE_KEY_POLICIES,
  );
}
