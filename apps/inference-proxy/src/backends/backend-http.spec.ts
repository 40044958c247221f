import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import { loadInferenceProxyConfig } from '../inference-proxy.config';
import { BackendError } from './backend-error';
import { BackendForwarder } from './backend-forwarder';
import { BackendHttp, CallSignal } from './backend-http';
import { BackendPool, type PoolOptions } from './backend-pool.service';
import { HeldHttpServer } from '../../../../test/support/held-http-server';

const OPTS: PoolOptions = {
  callTimeoutMs: 5_000,
  maxAttempts: 2,
  retryBaseMs: 1,
  retryMaxMs: 2,
  cooldownMs: 1,
  maxOutstanding: 8,
};

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('BackendHttp: the bounded keep-alive client of model calls and facade relays', () => {
  let engine: HeldHttpServer;
  let url = '';

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    engine = new HeldHttpServer();
    url = await engine.listen();
  });
  afterEach(() => engine.close());

  it('opens at most maxConnections connections to an engine however many calls are in flight; the rest wait', async () => {
    const http = new BackendHttp(3);
    // Ten calls at once: without the cap each would have its own socket before any answer came back.
    const replies = Array.from({ length: 10 }, async (_, i) => {
      const r = await http.postJson(`${url}/v1/completions`, `{"n":${i}}`, AbortSignal.timeout(5_000));
      return { status: r.status, contentType: r.contentType, body: await r.body.text() };
    });
    await engine.arrived(3);
    expect(engine.held).toHaveLength(3);
    const answering = engine.answerEach(10, (res, i) => json(res, 200, { i }));
    const answered = await Promise.all(replies);
    await answering;
    expect(answered.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(answered.map((r) => r.contentType)).toEqual(Array(10).fill('application/json'));
    expect(answered.map((r) => JSON.parse(r.body) as { i: number }).map((b) => b.i)).toHaveLength(10);
    expect(new Set(engine.held.map((h) => h.body)).size).toBe(10);
    expect(engine.connections).toBeLessThanOrEqual(3);
    await http.close();
  });

  it('BACKEND_MAX_CONNECTIONS defaults to twice BACKEND_MAX_OUTSTANDING, and is refused below it', () => {
    const pool = (env: Record<string, string>) => {
      const c = loadInferenceProxyConfig(env);
      return new BackendPool([{ id: 'a', kind: 'vllm', baseUrl: `${url}/v1` }], {
        ...OPTS,
        maxOutstanding: c.BACKEND_MAX_OUTSTANDING,
        ...(c.BACKEND_MAX_CONNECTIONS !== undefined ? { maxConnections: c.BACKEND_MAX_CONNECTIONS } : {}),
      });
    };
    expect(pool({ BACKEND_MAX_OUTSTANDING: '8' }).http.maxConnections).toBe(16);
    expect(pool({ BACKEND_MAX_OUTSTANDING: '8', BACKEND_MAX_CONNECTIONS: '8' }).http.maxConnections).toBe(8);
    expect(() => loadInferenceProxyConfig({ BACKEND_MAX_OUTSTANDING: '8', BACKEND_MAX_CONNECTIONS: '4' })).toThrow(
      /BACKEND_MAX_CONNECTIONS/,
    );
  });
});

describe('BackendForwarder over BackendHttp', () => {
  let engine: HeldHttpServer;
  let pool: BackendPool;
  let forwarder: BackendForwarder;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    engine = new HeldHttpServer();
    const url = await engine.listen();
    pool = new BackendPool([{ id: 'a', kind: 'vllm', baseUrl: `${url}/v1` }], OPTS);
    forwarder = new BackendForwarder(pool);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await engine.close();
    await pool.close();
  });

  it('reads off a retryable answer, so the retry reuses its connection, and relays the next answer', async () => {
    // Two backends at one origin (one connection pool): the 503 cools `a` down, the retry goes to `b` after the
    // longest backoff (no jitter), by when a connection the 503's reading had closed would be gone.
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    const base = pool.backends[0]!.target.baseUrl;
    const twin = new BackendPool(
      [
        { id: 'a', kind: 'vllm', baseUrl: base },
        { id: 'b', kind: 'vllm', baseUrl: base },
      ],
      { ...OPTS, cooldownMs: 60_000, retryBaseMs: 50, retryMaxMs: 50 },
    );
    forwarder = new BackendForwarder(twin);
    const answering = engine.answerEach(2, (res, i) =>
      i === 0 ? json(res, 503, { error: 'queue full' }) : json(res, 200, { ok: true }),
    );
    const fwd = await forwarder.forward('/chat/completions', () => ({ model: 'm' }), new AbortController().signal);
    await answering;
    expect(fwd.attempts).toBe(2);
    expect(fwd.response.status).toBe(200);
    expect(await fwd.response.body.text()).toBe('{"ok":true}');
    fwd.done(true);
    expect(engine.held.map((h) => h.req.url)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    expect(engine.connections).toBe(1);
    expect(twin.backends.map((b) => [b.id, b.outstanding, b.coolingDown(Date.now())])).toEqual([
      ['a', 0, true],
      ['b', 0, false],
    ]);
    await twin.close();
  });

  it('a caller that leaves mid-stream ends the backend call: its body read fails and the engine sees the close', async () => {
    const left = new AbortController();
    void engine.answerEach(1, (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"delta":{"content":"a"}}]}\n\n');
    });
    const fwd = await forwarder.forward('/chat/completions', () => ({ model: 'm', stream: true }), left.signal);
    expect(fwd.response.contentType).toBe('text/event-stream');
    const chunks: string[] = [];
    const reading = (async () => {
      for await (const chunk of fwd.response.body as AsyncIterable<Buffer>) {
        chunks.push(chunk.toString('utf8'));
        left.abort();
      }
    })();
    await expect(reading).rejects.toThrow();
    expect(chunks.join('')).toContain('"content":"a"');
    const served = engine.held[0]!.res;
    if (!served.destroyed) await once(served, 'close');
    fwd.done(false);
    expect(pool.backends[0]!.outstanding).toBe(0);
    // A stream cut by the caller says nothing about the engine: no cooldown.
    expect(pool.backends[0]!.coolingDown(Date.now())).toBe(false);
  });

  it('times out a call that gets no answer within the call timeout, as a timeout of that engine', async () => {
    const slow = new BackendPool([{ id: 'a', kind: 'vllm', baseUrl: pool.backends[0]!.target.baseUrl }], {
      ...OPTS,
      callTimeoutMs: 50,
      maxAttempts: 1,
      cooldownMs: 60_000,
    });
    const err = await new BackendForwarder(slow)
      .forward('/completions', () => ({ model: 'm' }), new AbortController().signal)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'timeout', backendId: 'a', attempts: 1 });
    expect(slow.backends[0]!.coolingDown(Date.now())).toBe(true);
    expect(slow.backends[0]!.outstanding).toBe(0);
    await slow.close();
  });
});

describe('CallSignal: a call aborted by its timeout or its caller', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('aborts as a timeout once its time has passed, not before', () => {
    const call = new CallSignal(1_000);
    jest.advanceTimersByTime(999);
    expect(call.signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(call.signal.aborted).toBe(true);
    expect(call.timedOut).toBe(true);
    expect((call.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it('aborts when the caller does (already or later), which is not a timeout', () => {
    const gone = new AbortController();
    gone.abort();
    expect(new CallSignal(1_000, gone.signal).signal.aborted).toBe(true);
    const caller = new AbortController();
    const call = new CallSignal(1_000, caller.signal);
    caller.abort();
    expect(call.signal.aborted).toBe(true);
    expect(call.timedOut).toBe(false);
  });

  it('once disposed, neither its timeout nor the caller aborts it', () => {
    const caller = new AbortController();
    const call = new CallSignal(1_000, caller.signal);
    call.dispose();
    jest.advanceTimersByTime(5_000);
    caller.abort();
    expect(call.signal.aborted).toBe(false);
    expect(call.timedOut).toBe(false);
  });
});
