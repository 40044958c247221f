import { callerId } from '../../apps/inference-proxy/src/facade/facade-caller';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { queryRows } from '../support/postgres';
import { startProxyHarness, type ProxyHarness } from './inference-proxy-harness';

const KEY = 'gov-eval-key';
const PRIORITY_KEY = 'gov-priority-key';

async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Facade governance through the real proxy over real HTTP to a vLLM double, audited in real Postgres. */
describe('OpenAI facade governance', () => {
  let double: ModelDouble;
  let h: ProxyHarness;

  beforeAll(async () => {
    double = await startModelDouble({ flavour: 'vllm', model: 'meditron-70b' });
    h = await startProxyHarness([{ id: 'vllm@g', kind: 'vllm', baseUrl: double.baseUrl }], {
      INFERENCE_MODEL: 'meditron-70b',
      BACKEND_HEALTH_INTERVAL_MS: '100',
      RESULT_FLUSH_MS: '10',
      FACADE_API_KEYS: `${KEY},${PRIORITY_KEY}`,
      FACADE_MAX_TOKENS: '64',
      FACADE_REQUESTS_PER_WINDOW: '6',
      FACADE_WINDOW_MS: '3600000',
      FACADE_KEY_POLICIES: JSON.stringify({ [callerId(PRIORITY_KEY)]: { priority: true, requestsPerWindow: 100 } }),
    });
  });
  afterAll(async () => {
    await h?.stop();
    await double?.close();
  });

  const post = (body: Record<string, unknown>, key = KEY) =>
    fetch(`${h.proxy.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'meditron-70b', prompt: 'synthetic', ...body }),
    });
  const posted = () => double.requests().filter((r) => r.method === 'POST');
  const refusals = () =>
    queryRows<{ actor: string; detail: { reason: string; param: string | null; status: number } }>(
      h.db.url,
      `SELECT actor, detail FROM audit_events WHERE action = 'facade.refused' ORDER BY id`,
    );

  it.each([
    ['max_tokens', { max_tokens: 1_000_000 }],
    ['n', { n: 128 }],
    ['best_of', { best_of: 128 }],
  ])('refuses %s over its cap with a 400 naming it; nothing reaches the pool; audited', async (field, extra) => {
    const before = posted().length;
    const res = await post(extra);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; message: string } };
    expect(body.error.param).toBe(field);
    expect(body.error.message).toMatch(new RegExp(`^${field} must be at most`));
    expect(posted().length).toBe(before);
    await until(async () => (await refusals()).some((r) => r.detail.param === field));
    expect((await refusals()).find((r) => r.detail.param === field)).toMatchObject({
      actor: callerId(KEY),
      detail: { reason: 'cap_exceeded', status: 400 },
    });
  });

  it('bounds an unbounded request and strips priority unless the key may use it', async () => {
    expect((await post({ priority: -100 })).status).toBe(200);
    const plain = posted().at(-1)!.body as Record<string, unknown>;
    expect(plain['max_tokens']).toBe(64);
    expect('priority' in plain).toBe(false);
    expect((await post({ priority: -100, max_tokens: 8 }, PRIORITY_KEY)).status).toBe(200);
    const allowed = posted().at(-1)!.body as Record<string, unknown>;
    expect(allowed['priority']).toBe(-100);
    expect(allowed['max_tokens']).toBe(8);
  });

  it('rate-limits a key per window with 429 + Retry-After, audits the flood once, leaves other keys alone', async () => {
    // The three refused requests and the answer above already counted against KEY's 6 per window.
    let status = 200;
    for (let i = 0; i < 3 && status === 200; i += 1) status = (await post({ max_tokens: 4 })).status;
    expect(status).toBe(429);
    const again = await post({ max_tokens: 4 });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await again.json()) as { error: { type: string } }).error.type).toBe('RateLimitError');
    expect((await post({ max_tokens: 4 }, PRIORITY_KEY)).status).toBe(200);
    await until(async () => (await refusals()).some((r) => r.detail.reason === 'rate_limited'));
    await new Promise((r) => setTimeout(r, 200));
    expect((await refusals()).filter((r) => r.detail.reason === 'rate_limited')).toHaveLength(1);
  });
});
