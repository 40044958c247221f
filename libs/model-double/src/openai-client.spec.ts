import OpenAI, { APIConnectionError, APIError } from 'openai';
import { defaultTextAnswer, promptDigest, startModelDouble, type ModelDouble } from '@app/model-double';

describe('model double with the openai client', () => {
  let double: ModelDouble;
  let client: OpenAI;
  beforeEach(async () => {
    // A queue limit (--max-num-queued-reqs) makes vLLM's overload a 503; see overload.spec for the default.
    double = await startModelDouble({ maxNumQueuedReqs: 64 });
    client = new OpenAI({ baseURL: double.baseUrl, apiKey: 'not-a-real-key', maxRetries: 0 });
  });
  afterEach(() => double.close());

  it('completions.create', async () => {
    const completion = await client.completions.create({ model: 'meditron-70b', prompt: 'hello', max_tokens: 32 });
    expect(completion.choices[0]?.text).toBe(defaultTextAnswer('hello'));
    expect(completion.usage).toEqual({ prompt_tokens: 1, completion_tokens: 6, total_tokens: 7 });
    expect(double.requests()[0]?.headers['authorization']).toBe('Bearer not-a-real-key');
  });

  it('chat.completions.create with a json_schema response_format', async () => {
    const chat = await client.chat.completions.create({
      model: 'meditron-70b',
      messages: [
        { role: 'system', content: 'Answer as CDS findings.' },
        { role: 'user', content: 'Patient context' },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'cds_findings', schema: { type: 'object', properties: { findings: { type: 'array' } } } },
      },
    });
    const content = chat.choices[0]?.message.content ?? '';
    const parsed = JSON.parse(content) as { findings: { summary: string }[] };
    expect(parsed.findings[0]?.summary).toBe(
      `Model double reviewed prompt ${promptDigest('Answer as CDS findings.\nPatient context')}`,
    );
    expect(double.requests()[0]?.responseFormat).toBe('openai_json_schema');
  });

  it('streaming chat yields the answer token by token, with usage at the end', async () => {
    double.enqueueResponse('No interaction found.');
    const stream = await client.chat.completions.create({
      model: 'meditron-70b',
      messages: [{ role: 'user', content: 'check' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let finish: string | null | undefined;
    let completionTokens: number | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
    }
    expect(deltas.join('')).toBe('No interaction found.');
    expect(deltas.length).toBe(4);
    expect(completionTokens).toBe(4);
    expect(finish).toBe('stop');
  });

  it('surfaces faults as the client errors a real server would cause', async () => {
    double.injectFault({ kind: 'overloaded', count: 1 });
    const overloaded = client.chat.completions.create({
      model: 'meditron-70b',
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(overloaded).rejects.toBeInstanceOf(APIError);
    await expect(overloaded).rejects.toMatchObject({ status: 503 });

    double.injectFault({ kind: 'disconnect', count: 1 });
    await expect(client.completions.create({ model: 'meditron-70b', prompt: 'x' })).rejects.toBeInstanceOf(
      APIConnectionError,
    );
  });

  it('retries through a one-off 429 from the tgi flavour', async () => {
    const tgi = await startModelDouble({ flavour: 'tgi' });
    try {
      tgi.injectFault({ kind: 'overloaded', count: 1 });
      const retrying = new OpenAI({ baseURL: tgi.baseUrl, apiKey: 'x', maxRetries: 1 });
      const chat = await retrying.chat.completions.create({ model: 'tgi', messages: [{ role: 'user', content: 'x' }] });
      expect(chat.choices[0]?.message.content).toBe(defaultTextAnswer('x'));
      expect(tgi.stats()).toMatchObject({ received: 2, faulted: 1, answered: 1 });
    } finally {
      await tgi.close();
    }
  });
});
