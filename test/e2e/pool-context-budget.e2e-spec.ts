import { countTokens, startModelDouble, type ModelDouble } from '@app/model-double';
import { MARGIN_TOKENS, MODEL_PROFILES } from '@app/prompts';
import { startLocalStack, type LocalStack } from '../../tools/local-stack/local-stack';
import { createTestDatabase, queryRows, type TestDatabase } from '../support/postgres';
import { testStackEnv } from '../support/stack-env';
import { patientViewRequest, postHook } from './walking-skeleton.cases';

const PROFILE = MODEL_PROFILES['meditron-70b'];
/**
 * Well below what the profile budgets for (4096 context): at the profile's budget this chart's prompt is ~890
 * tokens with nothing left out, so the server's 800 is what makes facts go.
 */
const MAX_INPUT_TOKENS = 800;
/** The largest chart among the fixtures. */
const NELIDA = 'Nelida_Gislason_d9cb9ceb-c966-47f7-b2ea-c435678a658e.json';

/**
 * The prompt budget comes from the servers: the proxy learns a TGI server's `max_input_tokens` from `/info`,
 * publishes the pool's context to Postgres, and cds-hooks budgets the hook's prompt to it.
 */
describe('prompt budget from the pool', () => {
  let db: TestDatabase;
  let tgi: ModelDouble;
  let stack: LocalStack;

  beforeAll(async () => {
    db = await createTestDatabase('e2e_pool_ctx');
    tgi = await startModelDouble({
      port: 0,
      flavour: 'tgi',
      model: PROFILE.id,
      limits: { maxInputTokens: MAX_INPUT_TOKENS, maxTotalTokens: 4096 },
    });
    stack = await startLocalStack({
      env: testStackEnv({
        DATABASE_URL: db.url,
        INFERENCE_MODEL: PROFILE.id,
        INFERENCE_BACKENDS: `tgi=${tgi.baseUrl}`,
        BACKEND_HEALTH_INTERVAL_MS: '100',
        HOOK_DEADLINE_MS: '15000',
        UPSTREAM_TIMEOUT_MS: '20000',
      }),
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await tgi?.close();
    await db?.drop();
  });

  async function publishedContext(timeoutMs = 10_000): Promise<number> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const rows = await queryRows<{ context_tokens: number }>(
        db.url,
        `SELECT context_tokens FROM model_pool_limits WHERE model = $1`,
        [PROFILE.id],
      );
      if (rows[0]) return rows[0].context_tokens;
      if (Date.now() > until) throw new Error('the proxy published no pool context');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("budgets the hook's prompt to the smallest server's input limit, so the server takes it", async () => {
    // TGI's limit on the prompt, plus the answer the profile reserves.
    expect(await publishedContext()).toBe(MAX_INPUT_TOKENS + PROFILE.maxOutputTokens);
    tgi.enqueueResponse(
      JSON.stringify({
        findings: [{ summary: 'Review medications', indicator: 'info', detail: 'Check the list.', evidence: ['P1'] }],
      }),
    );
    const { body, hookInstance } = patientViewRequest(NELIDA);

    const res = await postHook(stack, body);

    const [row] = await queryRows<{
      request_id: string;
      context_manifest: { budgetTokens: number; promptTokens: number; leftOutCounts: Record<string, number> };
    }>(
      db.url,
      `SELECT r.request_id, r.context_manifest FROM inference_requests r
         JOIN hook_invocations h ON h.id = r.hook_invocation_id WHERE h.hook_instance = $1`,
      [hookInstance],
    );
    const manifest = row!.context_manifest;
    expect(manifest.budgetTokens).toBe(MAX_INPUT_TOKENS - MARGIN_TOKENS);
    expect(manifest.promptTokens).toBeLessThanOrEqual(manifest.budgetTokens);
    // The smaller budget is what cut facts, and the manifest says so.
    expect(manifest.leftOutCounts['over-budget']).toBeGreaterThan(0);
    // A structured completion goes to TGI's native /generate (request-shaping.ts).
    const sent = tgi
      .requests()
      .filter((r) => r.path === '/generate')
      .at(-1)!;
    expect(countTokens((sent.body as { inputs: string }).inputs)).toBeLessThanOrEqual(MAX_INPUT_TOKENS);
    const [result] = await queryRows<{ outcome: string; error_code: string | null }>(
      db.url,
      `SELECT outcome, error_code FROM inference_results WHERE request_id = $1`,
      [row!.request_id],
    );
    expect(res.status).toBe(200);
    expect(res.json.cards as unknown[]).toHaveLength(1);
    expect(result).toEqual({ outcome: 'ok', error_code: null });
  });
});
