import { loadInferenceProxyConfig } from '../inference-proxy.config';
import { callerId } from './facade-caller';
import { FacadeGovernance, reportedUsage, type FacadeAdmission } from './facade-governance';
import { facadePolicy, facadePolicyOf } from './facade-policy';

const limits = {
  windowMs: 60_000,
  requestsPerWindow: 3,
  tokensPerWindow: 10_000,
  maxTokens: 1000,
  maxN: 4,
  maxBestOf: 4,
};
const ALICE = 'key:aaaaaaaaaaaa';
const PRIO = 'key:bbbbbbbbbbbb';

function governance(now: { t: number }) {
  return new FacadeGovernance(
    facadePolicy(limits, { [PRIO]: { priority: true, requestsPerWindow: 100 } }),
    () => now.t,
  );
}
const body = (extra: Record<string, unknown> = {}) => ({ model: 'm', prompt: 'x', ...extra });

describe('FacadeGovernance', () => {
  it.each([
    ['max_tokens', { max_tokens: 1_000_000 }, 'max_tokens must be at most 1000'],
    ['max_completion_tokens', { max_completion_tokens: 1001 }, 'max_completion_tokens must be at most 1000'],
    ['n', { n: 128 }, 'n must be at most 4'],
    ['best_of', { best_of: 128 }, 'best_of must be at most 4'],
    ['n', { n: 0 }, 'n must be a positive integer'],
    ['max_tokens', { max_tokens: '100' }, 'max_tokens must be a positive integer'],
    ['max_tokens', { max_tokens: 1.5 }, 'max_tokens must be a positive integer'],
  ])('refuses %s out of bounds with a 400 naming it', (field, extra, message) => {
    const out = governance({ t: 0 }).admit(ALICE, body(extra));
    expect(out).toMatchObject({ ok: false, status: 400, param: field, message });
  });

  it('fills in max_tokens when absent and reserves max_tokens x max(n, best_of)', () => {
    const g = governance({ t: 0 });
    const none = g.admit(ALICE, body()) as FacadeAdmission;
    expect(none).toMatchObject({ ok: true, reserved: 1000, body: { max_tokens: 1000 } });
    const many = g.admit(ALICE, body({ max_tokens: 100, n: 2, best_of: 3 })) as FacadeAdmission;
    expect(many).toMatchObject({ ok: true, reserved: 300, body: { max_tokens: 100, n: 2, best_of: 3 } });
  });

  it('strips priority unless the key may use it, and says so', () => {
    const g = governance({ t: 0 });
    const plain = g.admit(ALICE, body({ priority: -10 })) as FacadeAdmission;
    expect(plain.ok && 'priority' in plain.body).toBe(false);
    expect(plain.priorityStripped).toBe(true);
    const allowed = g.admit(PRIO, body({ priority: -10 })) as FacadeAdmission;
    expect(allowed.body['priority']).toBe(-10);
    expect(allowed.priorityStripped).toBe(false);
  });

  it('limits requests per key per window with Retry-After, flags only the first refusal, and resets', () => {
    const now = { t: 1_000 };
    const g = governance(now);
    for (let i = 0; i < 3; i += 1) expect(g.admit(ALICE, body({ max_tokens: 1 })).ok).toBe(true);
    expect(g.admit(ALICE, body({ max_tokens: 1 }))).toMatchObject({
      ok: false,
      status: 429,
      reason: 'rate_limited',
      retryAfterS: 59,
      floodStarted: true,
    });
    expect(g.admit(ALICE, body({ max_tokens: 1 }))).toMatchObject({ status: 429, floodStarted: false });
    // Another key has its own window.
    expect(g.admit(PRIO, body({ max_tokens: 1 })).ok).toBe(true);
    now.t = 60_000;
    expect(g.admit(ALICE, body({ max_tokens: 1 })).ok).toBe(true);
  });

  it('spends a token budget per window, settled to reported usage', () => {
    const now = { t: 0 };
    const g = governance(now);
    const big = { max_tokens: 1000, n: 4 }; // 4000 reserved
    const first = g.admit(PRIO, body(big)) as FacadeAdmission;
    const second = g.admit(PRIO, body(big)) as FacadeAdmission;
    expect(first.ok && second.ok).toBe(true);
    expect(g.admit(PRIO, body(big))).toMatchObject({ status: 429, reason: 'token_budget' });
    // The first answer used only 500 tokens: 3500 come back.
    g.settle(PRIO, first, 500);
    expect(g.admit(PRIO, body(big)).ok).toBe(true);
    // A request that could never fit the window is a 400, not a wait.
    const huge = new FacadeGovernance(facadePolicy({ ...limits, tokensPerWindow: 500 }, {}), () => 0);
    expect(huge.admit(ALICE, body({ max_tokens: 200, n: 3 }))).toMatchObject({ status: 400, param: 'max_tokens' });
  });

  it('reads usage.total_tokens from an OpenAI answer', () => {
    expect(reportedUsage('{"usage":{"total_tokens":42}}')).toBe(42);
    expect(reportedUsage('{"choices":[]}')).toBeNull();
    expect(reportedUsage('not json')).toBeNull();
  });
});

describe('facade config (validated at boot)', () => {
  const env = { FACADE_API_KEYS: 'k1,k2' };

  it('has sane defaults and takes per-key policies by caller id', () => {
    const c = loadInferenceProxyConfig({
      ...env,
      FACADE_KEY_POLICIES: JSON.stringify({ [callerId('k2')]: { priority: true, tokensPerWindow: 5 } }),
    });
    const policy = facadePolicyOf(c);
    expect(policy.limits).toEqual({
      windowMs: 60_000,
      requestsPerWindow: 60,
      tokensPerWindow: 200_000,
      maxTokens: 2048,
      maxN: 4,
      maxBestOf: 4,
    });
    expect(policy.forCaller(callerId('k2'))).toEqual({ requestsPerWindow: 60, tokensPerWindow: 5, priority: true });
    expect(policy.forCaller(callerId('k1')).priority).toBe(false);
  });

  it.each([
    [
      'a policy for an unknown key',
      { FACADE_KEY_POLICIES: JSON.stringify({ 'key:000000000000': { priority: true } }) },
    ],
    ['a policy keyed by the secret itself', { FACADE_KEY_POLICIES: JSON.stringify({ k1: { priority: true } }) }],
    ['policies that are not JSON', { FACADE_KEY_POLICIES: '{' }],
    ['an unknown policy field', { FACADE_KEY_POLICIES: JSON.stringify({ [callerId('k1')]: { maxTokens: 1 } }) }],
    ['a zero cap', { FACADE_MAX_N: '0' }],
  ])('refuses %s', (_name, extra) => {
    expect(() => loadInferenceProxyConfig({ ...env, ...extra })).toThrow(/FACADE_/);
  });
});
