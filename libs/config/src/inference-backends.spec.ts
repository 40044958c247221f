import { ConfigError, engineUrl, inferenceBackends, parseBackends, parseEnv } from '@app/config';
import { z } from 'zod';

describe('INFERENCE_BACKENDS', () => {
  it('reads a dns+ entry as a discovery source beside listed engines', () => {
    const parsed = parseBackends('vllm=dns+http://cds-meditron-cds-vllm-engines:80/v1/, tgi=http://10.0.0.9:3000/v1');
    expect(parsed).toEqual({
      ok: true,
      backends: [
        {
          id: 'vllm@dns+cds-meditron-cds-vllm-engines:80',
          kind: 'vllm',
          baseUrl: 'http://cds-meditron-cds-vllm-engines:80/v1',
          discovery: 'dns',
        },
        { id: 'tgi@10.0.0.9:3000', kind: 'tgi', baseUrl: 'http://10.0.0.9:3000/v1' },
      ],
    });
  });

  it.each([
    ['vllm=dns+https://engines:8000/v1', /http:\/\/ only/],
    ['vllm=dns+http://engines/v1', /explicit port/],
    ['vllm=dns+http://10.0.0.5:8000/v1', /DNS name, not an address/],
    ['vllm=dns+http://[fd00::5]:8000/v1', /DNS name, not an address/],
    ['vllm=dns+ftp://engines:21/v1', /must be http\(s\)/],
    ['vllm=dns+http://engines:8000/v1,vllm=dns+http://engines:8000/v1', /listed twice/],
  ])('refuses %s at boot, naming the variable', (raw, reason) => {
    const schema = z.object({ INFERENCE_BACKENDS: inferenceBackends.optional() });
    let error: unknown;
    try {
      parseEnv('inference-proxy', schema, { INFERENCE_BACKENDS: raw });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/INFERENCE_BACKENDS: /);
    expect((error as ConfigError).message).toMatch(reason);
  });

  it('addresses each engine at the source port and path, IPv6 in brackets', () => {
    expect(engineUrl('http://engines:8000/v1', '10.1.2.3')).toBe('http://10.1.2.3:8000/v1');
    expect(engineUrl('http://engines:8000/v1', 'fd00::7')).toBe('http://[fd00::7]:8000/v1');
    // The scheme's default port is dropped from the URL, so the engine id carries none either.
    expect(engineUrl('http://engines:80/v1', '10.1.2.3')).toBe('http://10.1.2.3/v1');
  });
});
