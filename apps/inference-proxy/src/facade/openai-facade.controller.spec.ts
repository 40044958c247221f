import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import type { Response } from 'express';
import { BackendPool } from '../backends/backend-pool.service';
import { INFERENCE_PROXY_CONFIG, loadInferenceProxyConfig } from '../inference-proxy.config';
import { callerId, type FacadeRequest } from './facade-auth.guard';
import { FacadeRelay } from './facade-relay.service';
import { OpenAiFacadeController } from './openai-facade.controller';

/** The facade's HTTP layer: real key guard and routing, a mocked relay and pool. */
describe('OpenAiFacadeController over HTTP', () => {
  let app: NestExpressApplication;
  let base = '';
  let limits: { maxInputTokens: number | null; maxTotalTokens: number | null } = {
    maxInputTokens: null,
    maxTotalTokens: null,
  };
  const relayed: Array<{ path: string; caller: string | undefined; body: unknown }> = [];
  const relay = jest.fn(async (path: string, req: FacadeRequest, res: Response) => {
    relayed.push({ path, caller: req.facadeCaller, body: req.body });
    res.status(200).json({ relayed: path });
  });

  beforeAll(async () => {
    const config = loadInferenceProxyConfig({ FACADE_API_KEYS: 'key-one,key-two', INFERENCE_MODEL: 'meditron-70b' });
    const moduleRef = await Test.createTestingModule({
      controllers: [OpenAiFacadeController],
      providers: [
        { provide: INFERENCE_PROXY_CONFIG, useValue: config },
        { provide: FacadeRelay, useValue: { relay } },
        { provide: BackendPool, useValue: { reportedLimits: () => limits } },
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(() => app.close());

  beforeEach(() => {
    relayed.length = 0;
    relay.mockClear();
  });

  const call = (method: 'GET' | 'POST', path: string, key?: string, body?: unknown) =>
    fetch(`${base}/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  it('lists the served model with the smallest limits the pool reports, none until reported', async () => {
    let res = await call('GET', '/models', 'key-one');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      object: 'list',
      data: [{ id: 'meditron-70b', object: 'model', owned_by: 'meditron-cds' }],
    });
    limits = { maxInputTokens: 3584, maxTotalTokens: 4096 };
    res = await call('GET', '/models', 'key-one');
    expect(((await res.json()) as { data: unknown[] }).data).toEqual([
      { id: 'meditron-70b', object: 'model', owned_by: 'meditron-cds', max_model_len: 4096, max_input_tokens: 3584 },
    ]);
  });

  it('relays completions and chat completions to their backend paths, naming the caller by key', async () => {
    const body = { model: 'meditron-70b', prompt: 'hello' };
    expect((await call('POST', '/completions', 'key-one', body)).status).toBe(200);
    expect((await call('POST', '/chat/completions', 'key-two', body)).status).toBe(200);
    expect(relayed.map((r) => r.path)).toEqual(['/completions', '/chat/completions']);
    expect(relayed.map((r) => r.body)).toEqual([body, body]);
    const [one, two] = relayed.map((r) => r.caller);
    // The key is hashed once per request: the id must still be the one FACADE_KEY_POLICIES and the audit name.
    expect([one, two]).toEqual([callerId('key-one'), callerId('key-two')]);
    expect(one).toMatch(/^key:[0-9a-f]{12}$/);
    expect(one).not.toBe(two);
    // The caller id names the key without being it.
    expect(JSON.stringify(relayed)).not.toContain('key-one');
  });

  it('answers 401 without a key or with a wrong one, and relays nothing', async () => {
    expect((await call('POST', '/completions', undefined, {})).status).toBe(401);
    expect((await call('POST', '/completions', 'key-three', {})).status).toBe(401);
    expect((await call('GET', '/models', 'key-three')).status).toBe(401);
    expect(relay).not.toHaveBeenCalled();
  });
});
