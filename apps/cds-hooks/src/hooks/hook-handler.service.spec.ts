import type { CardAnswer, CardAnswerService } from './card-answer.service';
import { HookHandler } from './hook-handler.service';
import type { HookPreparation, PreparedHook } from './hook-preparation.service';
import type { HookPrewarmer } from './hook-prewarmer.service';
import type { HookRecorder } from './hook-recorder.service';
import type { HookRequest } from './hook-request.schema';
import type { InferenceStarter } from './inference-starter.service';

function deferred<T = void>(): { promise: Promise<T>; resolve(v: T): void; reject(e: Error): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * The order of a call's steps: the `hook.invoked` audit is made durable while the answer is awaited, yet the call
 * is answered (and `hook.answered` recorded) only once it committed; a failed `hook.invoked` fails the call.
 */
describe('HookHandler', () => {
  const card = { uuid: 'c1', indicator: 'info', summary: 'Consider an eGFR' };
  const answer = {
    requestId: 'r1',
    result: undefined,
    cards: [card],
    detail: { result: 'completed', output: 'valid' },
    suggestions: [],
  } as unknown as CardAnswer;
  const prepared = { call: { invocationId: 'i1' }, prompt: {}, offered: undefined } as unknown as PreparedHook;

  function setup(
    answerOf: (beforeRepair: () => Promise<void>) => Promise<CardAnswer> = async () => answer,
    reused: 'none' | 'pending' | 'result' = 'none',
  ) {
    const steps: string[] = [];
    const invoked = deferred();
    const answered: Array<{ cards: number; invoked: Promise<void> | { withAnswer: unknown } }> = [];
    const recorder = {
      invocationOf: () => ({}),
      invoked: () => {
        steps.push('invoked started');
        return invoked.promise.then(() => void steps.push('invoked committed'));
      },
      answered: async (_p: PreparedHook, a: CardAnswer, inv: Promise<void> | { withAnswer: unknown }) => {
        if (inv instanceof Promise) await inv;
        else steps.push('invoked recorded with the answer');
        steps.push('answered recorded');
        answered.push({ cards: a.cards.length, invoked: inv });
      },
    } as unknown as HookRecorder;
    const handler = new HookHandler(
      { prepare: async () => prepared } as unknown as HookPreparation,
      recorder,
      {
        start: async () => ({ requestId: 'r1', reused, result: async () => undefined }),
      } as unknown as InferenceStarter,
      { prewarm: async () => undefined } as unknown as HookPrewarmer,
      {
        answer: (...args: unknown[]) => {
          steps.push('answer awaited');
          return answerOf(args[4] as () => Promise<void>);
        },
      } as unknown as CardAnswerService,
    );
    const hook = { hook: 'patient-view', hookInstance: 'h1', context: {} } as unknown as HookRequest;
    const run = () =>
      handler.handle('meditron-patient-view', hook, { requestId: 'q1', traceparent: undefined, clientId: 'ehr' });
    return { steps, invoked, answered, run };
  }

  it('awaits the answer while hook.invoked is committing, and answers only after it committed', async () => {
    const { steps, invoked, run } = setup();
    let replied = false;
    const reply = run().then((r) => {
      replied = true;
      return r;
    });
    for (let i = 0; i < 5; i++) await tick();
    expect(steps).toEqual(['invoked started', 'answer awaited']);
    expect(replied).toBe(false);
    invoked.resolve();
    await expect(reply).resolves.toEqual({ cards: [card] });
    expect(steps).toEqual(['invoked started', 'answer awaited', 'invoked committed', 'answered recorded']);
  });

  it('fails the call, and records no answer, when hook.invoked cannot be made durable', async () => {
    const { invoked, answered, run } = setup();
    const reply = run();
    invoked.reject(new Error('audit queue full'));
    await expect(reply).rejects.toThrow('audit queue full');
    expect(answered).toEqual([]);
  });

  it('fails the call as soon as hook.invoked fails, without waiting for the model', async () => {
    const model = deferred<CardAnswer>();
    const { invoked, answered, run } = setup(() => model.promise);
    const reply = run();
    for (let i = 0; i < 5; i++) await tick();
    invoked.reject(new Error('audit queue full'));
    await expect(reply).rejects.toThrow('audit queue full');
    model.resolve(answer);
    for (let i = 0; i < 5; i++) await tick();
    expect(answered).toEqual([]);
  });

  it('records hook.invoked with hook.answered for a stored result, not in a write of its own before it', async () => {
    const { steps, answered, run } = setup(async () => answer, 'result');
    await expect(run()).resolves.toEqual({ cards: [card] });
    expect(steps).toEqual(['answer awaited', 'invoked recorded with the answer', 'answered recorded']);
    expect(answered).toEqual([{ cards: 1, invoked: { withAnswer: expect.objectContaining({ reused: 'result' }) } }]);
  });

  it('for a stored result whose output needs a repair, has hook.invoked committed before the repair starts', async () => {
    const { steps, invoked, answered, run } = setup(async (beforeRepair) => {
      const recorded = beforeRepair();
      steps.push('repair waits for hook.invoked');
      await recorded;
      steps.push('repair started');
      return answer;
    }, 'result');
    const reply = run();
    for (let i = 0; i < 5; i++) await tick();
    expect(steps).toEqual(['answer awaited', 'invoked started', 'repair waits for hook.invoked']);
    invoked.resolve();
    await expect(reply).resolves.toEqual({ cards: [card] });
    expect(steps.slice(3)).toEqual(['invoked committed', 'repair started', 'answered recorded']);
    expect(answered[0]!.invoked).toBeInstanceOf(Promise);
  });

  it('for a stored result whose cards cannot be composed, still records hook.invoked before the call fails', async () => {
    const { steps, invoked, answered, run } = setup(async () => {
      throw new Error('compose failed');
    }, 'result');
    const reply = run();
    reply.catch(() => undefined);
    for (let i = 0; i < 5; i++) await tick();
    expect(steps).toEqual(['answer awaited', 'invoked started']);
    invoked.resolve();
    await expect(reply).rejects.toThrow('compose failed');
    expect(steps).toEqual(['answer awaited', 'invoked started', 'invoked committed']);
    expect(answered).toEqual([]);
  });
});
