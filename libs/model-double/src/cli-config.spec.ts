import { optionsFromEnv } from './cli-config';

describe('optionsFromEnv', () => {
  it('defaults to vllm, meditron-70b on port 8090 with no latency', () => {
    expect(optionsFromEnv({})).toEqual({
      port: 8090,
      flavour: 'vllm',
      model: 'meditron-70b',
      latency: { ttftMs: 0, perTokenMs: 0 },
      mode: 'instruct',
      limits: { maxModelLen: 4096, maxInputTokens: 3584, maxTotalTokens: 4096 },
    });
  });

  it('reads every MODEL_DOUBLE_* variable', () => {
    expect(
      optionsFromEnv({
        MODEL_DOUBLE_PORT: '0',
        MODEL_DOUBLE_HOST: '0.0.0.0',
        MODEL_DOUBLE_FLAVOUR: 'tgi',
        MODEL_DOUBLE_MODEL: 'epfl-llm/meditron-7b',
        MODEL_DOUBLE_TTFT_MS: '250',
        MODEL_DOUBLE_PER_TOKEN_MS: '20',
        MODEL_DOUBLE_MODE: 'base',
        MODEL_DOUBLE_TGI_VERSION: '3.2.3',
        MODEL_DOUBLE_MAX_NUM_QUEUED_REQS: '64',
        MODEL_DOUBLE_MAX_MODEL_LEN: '8192',
        MODEL_DOUBLE_MAX_INPUT_TOKENS: '7000',
        MODEL_DOUBLE_MAX_TOTAL_TOKENS: '8192',
      }),
    ).toEqual({
      port: 0,
      host: '0.0.0.0',
      flavour: 'tgi',
      model: 'epfl-llm/meditron-7b',
      latency: { ttftMs: 250, perTokenMs: 20 },
      mode: 'base',
      tgiVersion: '3.2.3',
      maxNumQueuedReqs: 64,
      limits: { maxModelLen: 8192, maxInputTokens: 7000, maxTotalTokens: 8192 },
    });
  });

  it.each([
    [{ MODEL_DOUBLE_FLAVOUR: 'ollama' }, /MODEL_DOUBLE_FLAVOUR/],
    [{ MODEL_DOUBLE_PORT: '70000' }, /MODEL_DOUBLE_PORT/],
    [{ MODEL_DOUBLE_TTFT_MS: 'soon' }, /MODEL_DOUBLE_TTFT_MS/],
    [{ MODEL_DOUBLE_PER_TOKEN_MS: '-1' }, /MODEL_DOUBLE_PER_TOKEN_MS/],
    [{ MODEL_DOUBLE_MODE: 'chatty' }, /MODEL_DOUBLE_MODE/],
  ])('rejects %j', (env, message) => {
    expect(() => optionsFromEnv(env)).toThrow(message);
  });
});
