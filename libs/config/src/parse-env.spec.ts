import { z } from 'zod';
import { ConfigError, inferenceBackends, kafkaBrokers, parseEnv, port } from '@app/config';

const schema = z.object({
  PORT: port(8080),
  KAFKA_BROKERS: kafkaBrokers.optional(),
  INFERENCE_BACKENDS: inferenceBackends.optional(),
});

describe('parseEnv', () => {
  it('applies defaults and treats empty strings as unset', () => {
    const cfg = parseEnv('test-app', schema, { PORT: '', KAFKA_BROKERS: '  ' });
    expect(cfg).toEqual({ PORT: 8080, KAFKA_BROKERS: undefined, INFERENCE_BACKENDS: undefined });
  });

  it('parses brokers and backends into typed values', () => {
    const cfg = parseEnv('test-app', schema, {
      KAFKA_BROKERS: 'k1:9092, k2:9093',
      INFERENCE_BACKENDS: 'vllm=http://10.0.0.5:8000/v1/,tgi=https://tgi.internal/v1',
    });
    expect(cfg.KAFKA_BROKERS).toEqual(['k1:9092', 'k2:9093']);
    expect(cfg.INFERENCE_BACKENDS).toEqual([
      { id: 'vllm@10.0.0.5:8000', kind: 'vllm', baseUrl: 'http://10.0.0.5:8000/v1' },
      { id: 'tgi@tgi.internal', kind: 'tgi', baseUrl: 'https://tgi.internal/v1' },
    ]);
  });

  it('refuses to start with a message naming every bad variable', () => {
    let error: unknown;
    try {
      parseEnv('test-app', schema, { PORT: 'eighty', INFERENCE_BACKENDS: 'ollama=http://x/v1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('test-app: invalid configuration');
    expect(message).toMatch(/PORT: /);
    expect(message).toMatch(/INFERENCE_BACKENDS: kind "ollama" is not one of vllm, tgi/);
  });

  it.each([
    ['k1', 'each broker must be host:port'],
    ['http://k1:9092', 'each broker must be host:port'],
  ])('rejects KAFKA_BROKERS=%s', (value, message) => {
    expect(() => parseEnv('a', schema, { KAFKA_BROKERS: value })).toThrow(message);
  });

  it.each([
    ['vllm', 'is not kind=baseUrl'],
    ['vllm=not a url', 'is not a URL'],
    ['vllm=ftp://x/v1', 'must be http(s)'],
    ['vllm=http://a/v1,vllm=http://a/v1', 'listed twice'],
  ])('rejects INFERENCE_BACKENDS=%s', (value, message) => {
    expect(() => parseEnv('a', schema, { INFERENCE_BACKENDS: value })).toThrow(message);
  });
});
