import type { FacadeBody } from './facade-response-format';
import type { FacadePolicy } from './facade-policy';

/** Why a request was refused before it reached the pool; `param` names the body field when there is one. */
export interface FacadeRefusal {
  readonly ok: false;
  readonly status: 400 | 429;
  readonly reason: 'cap_exceeded' | 'invalid_field' | 'rate_limited' | 'token_budget';
  readonly param: string | null;
  readonly message: string;
  readonly retryAfterS?: number;
  /** True for the first 429 of a run: one audit event per flood, as the gateway's rate limit does. */
  readonly floodStarted: boolean;
}

export interface FacadeAdmission {
  readonly ok: true;
  /** The body to forward: caps applied, `max_tokens` filled in when absent, `priority` removed unless allowed. */
  readonly body: FacadeBody;
  /** Tokens reserved against the key's window; settle() replaces them with the usage the backend reports. */
  readonly reserved: number;
  readonly priorityStripped: boolean;
  readonly windowStart: number;
}

interface Window {
  start: number;
  requests: number;
  tokens: number;
  limited: boolean;
}

const CAPPED = ['max_tokens', 'max_completion_tokens', 'n', 'best_of'] as const;
type Capped = (typeof CAPPED)[number];

/**
 * Per-key governance of the OpenAI facade, in this replica's memory: a fixed window per key counting requests
 * and generation tokens, and caps on what one request may ask. Hand-written (about the size of the gateway's
 * token bucket) because the budget is charged twice, reserved up front and settled to the reported usage,
 * which rate-limit libraries' consume-only counters do not model.
 */
export class FacadeGovernance {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly policy: FacadePolicy,
    private readonly now: () => number = Date.now,
  ) {}

  admit(caller: string, body: FacadeBody): FacadeAdmission | FacadeRefusal {
    const { limits } = this.policy;
    const own = this.policy.forCaller(caller);
    const w = this.window(caller);
    if (w.requests >= own.requestsPerWindow) {
      return this.limited(w, 'rate_limited', `more than ${own.requestsPerWindow} requests in the window`);
    }
    // Every attempt counts, refused ones too: a caller repeating a bad request cannot grow the audit trail
    // faster than its rate allows.
    w.requests += 1;
    const caps: Record<Capped, number> = {
      max_tokens: limits.maxTokens,
      max_completion_tokens: limits.maxTokens,
      n: limits.maxN,
      best_of: limits.maxBestOf,
    };
    for (const field of CAPPED) {
      const value = body[field];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        return refuse('invalid_field', field, `${field} must be a positive integer`);
      }
      if (value > caps[field]) return refuse('cap_exceeded', field, `${field} must be at most ${caps[field]}`);
    }
    const asked = (body['max_completion_tokens'] ?? body['max_tokens']) as number | undefined;
    const perSequence = asked ?? limits.maxTokens;
    const sequences = Math.max(1, (body['n'] as number | undefined) ?? 1, (body['best_of'] as number | undefined) ?? 1);
    const reserved = perSequence * sequences;
    if (reserved > own.tokensPerWindow) {
      return refuse('cap_exceeded', 'max_tokens', `max_tokens x n (or best_of) must be at most ${own.tokensPerWindow}`);
    }
    if (w.tokens + reserved > own.tokensPerWindow) {
      return this.limited(w, 'token_budget', `the key's token budget of ${own.tokensPerWindow} per window is spent`);
    }
    w.tokens += reserved;
    w.limited = false;
    const { priority: _priority, ...rest } = body;
    const priorityStripped = body['priority'] !== undefined && !own.priority;
    // Without a limit vLLM generates up to the context length: the cap becomes the limit.
    const forwarded = {
      ...(priorityStripped ? rest : body),
      ...(asked === undefined ? { max_tokens: limits.maxTokens } : {}),
    };
    return { ok: true, body: forwarded, reserved, priorityStripped, windowStart: w.start };
  }

  /** Replaces a reservation with the tokens the backend reports having used (same window only). */
  settle(caller: string, admission: FacadeAdmission, usedTokens: number | null): void {
    const w = this.windows.get(caller);
    if (!w || w.start !== admission.windowStart || usedTokens === null) return;
    w.tokens = Math.max(0, w.tokens - admission.reserved + usedTokens);
  }

  private window(caller: string): Window {
    const now = this.now();
    const { windowMs } = this.policy.limits;
    let w = this.windows.get(caller);
    if (!w || now - w.start >= windowMs) {
      w = { start: now - (now % windowMs), requests: 0, tokens: 0, limited: false };
      this.windows.set(caller, w);
    }
    return w;
  }

  private limited(w: Window, reason: 'rate_limited' | 'token_budget', message: string): FacadeRefusal {
    const floodStarted = !w.limited;
    w.limited = true;
    const retryAfterS = Math.max(1, Math.ceil((w.start + this.policy.limits.windowMs - this.now()) / 1000));
    return { ok: false, status: 429, reason, param: null, message, retryAfterS, floodStarted };
  }
}

function refuse(reason: 'cap_exceeded' | 'invalid_field', param: string, message: string): FacadeRefusal {
  return { ok: false, status: 400, reason, param, message, floodStarted: false };
}

/** `usage.total_tokens` of a non-streamed OpenAI answer, or null when absent or unreadable. */
export function reportedUsage(text: string): number | null {
  try {
    const usage = (JSON.parse(text) as { usage?: { total_tokens?: unknown } }).usage;
    return typeof usage?.total_tokens === 'number' && usage.total_tokens >= 0 ? usage.total_tokens : null;
  } catch {
    return null;
  }
}
