import { startModelDouble, type ModelDouble } from '@app/model-double';
import { arr, getJson, obj, postJson } from './spec-support';

describe('model double control over HTTP (/_double/*)', () => {
  let double: ModelDouble;
  let control: string;
  beforeEach(async () => {
    // A queue limit (--max-num-queued-reqs) makes vLLM's overload a 503; see overload.spec for the default.
    double = await startModelDouble({ maxNumQueuedReqs: 64 });
    control = `${double.url}/_double`;
  });
  afterEach(() => double.close());

  const complete = (prompt = 'x'): ReturnType<typeof postJson> => postJson(`${double.baseUrl}/completions`, { prompt });

  it('POST /_double/latency sets the clock', async () => {
    const set = await postJson(`${control}/latency`, { ttftMs: 120, perTokenMs: 0 });
    expect(set.status).toBe(200);
    expect(set.json).toEqual({ ok: true, latency: { ttftMs: 120, perTokenMs: 0 } });
    const started = Date.now();
    await complete();
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
  });

  it('POST /_double/faults injects a plan, DELETE clears it', async () => {
    const set = await postJson(`${control}/faults`, { kind: 'overloaded' });
    expect(set.status).toBe(200);
    expect(set.json).toEqual({ ok: true, faults: [{ kind: 'overloaded' }] });
    expect((await complete()).status).toBe(503);
    expect((await complete()).status).toBe(503);
    expect((await postJson(`${control}/faults`, null, 'DELETE')).status).toBe(200);
    expect((await complete()).status).toBe(200);
  });

  it('POST /_double/responses enqueues an answer', async () => {
    const set = await postJson(`${control}/responses`, { text: 'from another process' });
    expect(set.json).toEqual({ ok: true, queued: 1 });
    const { json } = await complete();
    expect(obj(arr(obj(json)['choices'])[0])['text']).toBe('from another process');
  });

  it('GET /_double/stats and /_double/requests report model-API traffic only', async () => {
    await complete('seen');
    await postJson(`${control}/responses`, { text: 'x' });
    const stats = await getJson(`${control}/stats`);
    expect(stats.json).toEqual({ received: 1, answered: 1, faulted: 0, inFlight: 0 });
    const requests = await getJson(`${control}/requests`);
    expect(arr(requests.json)).toHaveLength(1);
    expect(arr(requests.json)[0]).toMatchObject({ method: 'POST', path: '/v1/completions', body: { prompt: 'seen' } });
  });

  it.each([
    ['latency', { ttftMs: -5, perTokenMs: 0 }],
    ['latency', { ttftMs: 'fast', perTokenMs: 0 }],
    ['latency', { ttftMs: 1 }],
    ['faults', { kind: 'explode' }],
    ['faults', { kind: 'slow' }],
    ['faults', { kind: 'overloaded', count: 1.5 }],
    ['faults', { kind: 'overloaded', extra: true }],
    ['responses', { text: 42 }],
    ['responses', {}],
    ['responses', 'not json {'],
  ])('POST /_double/%s rejects %j with 400 and a JSON error', async (endpoint, body) => {
    const { status, json } = await postJson(`${control}/${endpoint}`, body);
    expect(status).toBe(400);
    expect(obj(json)['error']).toMatchObject({ code: 400, message: expect.any(String) });
    expect(double.stats().faulted).toBe(0);
    expect((await complete()).status).toBe(200); // nothing changed
  });

  it('answers 404 for unknown control paths and 405 for wrong methods', async () => {
    expect((await getJson(`${control}/nothing`)).status).toBe(404);
    expect((await postJson(`${control}/stats`, {})).status).toBe(405);
  });
});
