import { Logger } from '@nestjs/common';
import { startModelDouble, type ModelDouble } from '@app/model-double';
import { BackendHealth } from './backend-health.service';
import { BackendPool } from './backend-pool.service';

const OPTS = {
  callTimeoutMs: 2_000,
  maxAttempts: 2,
  retryBaseMs: 10,
  retryMaxMs: 20,
  cooldownMs: 1_000,
  maxOutstanding: 4,
};

describe('BackendHealth against model doubles', () => {
  const doubles: ModelDouble[] = [];
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(async () => {
    for (const d of doubles.splice(0)) await d.close();
  });

  it('ejects a vLLM backend whose /v1/models does not list the served model', async () => {
    const d = await startModelDouble({ model: 'meditron-7b' });
    doubles.push(d);
    const pool = new BackendPool([{ id: 'v', kind: 'vllm', baseUrl: d.baseUrl }], OPTS);
    await new BackendHealth(pool.backends, 1_000, 1_000, 'meditron-70b').probeAll();
    expect(pool.backends[0]!.healthy).toBe(false);
    await new BackendHealth(pool.backends, 1_000, 1_000, 'meditron-7b').probeAll();
    expect(pool.backends[0]!.healthy).toBe(true);
    expect(pool.backends[0]!.facts).toMatchObject({ models: ['meditron-7b'], maxTotalTokens: 4096 });
  });

  it('learns TGI version and limits from /info, whatever model name the proxy uses; the pool takes the smallest', async () => {
    const tgi = await startModelDouble({
      flavour: 'tgi',
      model: 'epfl-llm/meditron-70b',
      limits: { maxInputTokens: 3072, maxTotalTokens: 4096 },
    });
    const vllm = await startModelDouble({ limits: { maxModelLen: 4096 } });
    doubles.push(tgi, vllm);
    const pool = new BackendPool(
      [
        { id: 't', kind: 'tgi', baseUrl: tgi.baseUrl },
        { id: 'v', kind: 'vllm', baseUrl: vllm.baseUrl },
      ],
      OPTS,
    );
    expect(pool.contextTokens(512)).toBeNull();
    await new BackendHealth(pool.backends, 1_000, 1_000, 'meditron-70b').probeAll();
    expect(pool.backends.map((b) => b.healthy)).toEqual([true, true]);
    expect(pool.backends[0]!.facts).toEqual({
      models: ['epfl-llm/meditron-70b'],
      version: '3.3.4',
      maxInputTokens: 3072,
      maxTotalTokens: 4096,
    });
    expect(pool.contextTokens(512)).toBe(3584);
  });

  it('warns when a backend takes less context than prompts are budgeted for', async () => {
    const tgi = await startModelDouble({ flavour: 'tgi', limits: { maxInputTokens: 3072, maxTotalTokens: 4096 } });
    doubles.push(tgi);
    const pool = new BackendPool([{ id: 't', kind: 'tgi', baseUrl: tgi.baseUrl }], OPTS);
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const budget = { contextTokens: 4096, maxOutputTokens: 512 };
      await new BackendHealth(pool.backends, 1_000, 1_000, 'm', budget).probeAll();
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/takes 3584 tokens of context but prompts are budgeted for 4096/),
      );
    } finally {
      warn.mockRestore();
    }
  });
});
