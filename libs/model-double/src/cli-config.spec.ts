import { optionsFromEnv } from './cli-config';

describe('optionsFromEnv', () => {
  it('defaults to vllm, meditron-70b on port 8090 with no latency', () => {
    expect(optionsFromEnv({})).toEqual({
      port: 8090,
      flavour: 'vllm',
      model: 'meditron-70b',
      latency: { ttftMs: 0, perTokenMs: 0 },
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
      }),
    ).toEqual({
      port: 0,
      host: '0.0.0.0',
      flavour: 'tgi',
      model: 'epfl-llm/meditron-7b',
      latency: { ttftMs: 250, perTokenMs: 20 },
    });
  });

  it.each([
    [{ MODEL_DOUBLE_FLAVOUR: 'ollama' }, /MODEL_DOUBLE_FLAVOUR/],
    [{ MODEL_DOUBLE_PORT: '70000' }, /MODEL_DOUBLE_PORT/],
    [{ MODEL_DOUBLE_TTFT_MS: 'soon' }, /MODEL_DOUBLE_TTFT_MS/],
    [{ MODEL_DOUBLE_PER_TOKEN_MS: '-1' }, /MODEL_DOUBLE_PER_TOKEN_MS/],
  ])('rejects %j', (env, message) => {
    expect(() => optionsFromEnv(env)).toThrow(message);
  });
});
