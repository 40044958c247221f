import type { AuditAdmission } from '@app/audit';
import type { CardAnswer, CardAnswerService } from './card-answer.service';
import { HookHandler } from './hook-handler.service';
import type { HookPreparation, PreparedHook } from './hook-preparation.service';
import type { HookPrewarmer } from './hook-prewarmer.service';
import type { HookRecorder, InvokedRecord } from './hook-recorder.service';
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
 * The order of a call's steps: `hook.invoked` is admitted at dispatch and committed with (or before) `hook.answered`,
 * not awaited before the answer; the call is answered only once it committed; a refused or failed `hook.invoked`
 * fails the call; a call that repairs or fails has it written at once (not at the end of its linger).
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
    refuseInvoked?: Error,
  ) {
    const steps: string[] = [];
    /** The commit of `hook.invoked` (the test settles it). */
    const invoked = deferred();
    const admission: AuditAdmission = { durable: invoked.promise.then(() => void steps.push('invoked committed')) };
    admission.durable.catch(() => undefined);
    const answered: Array<{ cards: number; invoked: InvokedRecord | undefined }> = [];
    const recorder = {
      invocationOf: () => ({}),
      invoked: async () => {
        steps.push('invoked admitted');
        if (refuseInvoked) throw refuseInvoked;
        return admission;
      },
      invokedNow: (a: AuditAdmission) => {
        steps.push('invoked written now');
        return a.durable;
      },
      answered: async (_p: PreparedHook, a: CardAnswer, inv: InvokedRecord | undefined) => {
        if (inv && 'withAnswer' in inv) steps.push('invoked recorded with the answer');
        else {
          steps.push('answered admitted after invoked');
          await inv?.durable;
        }
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
    return { steps, invoked, admission, answered, run };
  }

  it('admits hook.invoked at dispatch, admits hook.answered after it without awaiting its commit, and answers once both committed', async () => {
    const { steps, invoked, admission, answered, run } = setup();
    let replied = false;
    const reply = run().then((r) => {
      replied = true;
      return r;
    });
    for (let i = 0; i < 5; i++) await tick();
    // Not written on its own before the answer: the answer's write takes it along.
    expect(steps).toEqual(['invoked admitted', 'answer awaited', 'answered admitted after invoked']);
    expect(answered).toEqual([]);
    expect(replied).toBe(false);
    invoked.resolve();
    await expect(reply).resolves.toEqual({ cards: [card] });
    expect(steps.slice(3)).toEqual(['invoked committed', 'answered recorded']);
    expect(answered).toEqual([{ cards: 1, invoked: admission }]);
  });

  it('fails the call, and records no answer, when the audit queue refuses hook.invoked', async () => {
    const { answered, run } = setup(async () => answer, 'none', new Error('audit queue full'));
    await expect(run()).rejects.toThrow('audit queue full');
    expect(answered).toEqual([]);
  });

  it('fails the call as soon as hook.invoked fails to commit, without waiting for the model', async () => {
    const model = deferred<CardAnswer>();
    const { invoked, answered, run } = setup(() => model.promise);
    const reply = run();
    for (let i = 0; i < 5; i++) await tick();
    invoked.reject(new Error('audit event refused'));
    await expect(reply).rejects.toThrow('audit event refused');
    model.resolve(answer);
    for (let i = 0; i < 5; i++) await tick();
    expect(answered).toEqual([]);
  });

  it('for a call that fails on its way to an answer, has hook.invoked written at once and committed before it fails', async () => {
    const { steps, invoked, answered, run } = setup(async () => {
      throw new Error('compose failed');
    });
    const reply = run();
    reply.catch(() => undefined);
    for (let i = 0; i < 5; i++) await tick();
    expect(steps).toEqual(['invoked admitted', 'answer awaited', 'invoked written now']);
    invoked.resolve();
    await expect(reply).rejects.toThrow('compose failed');
    expect(steps.slice(3)).toEqual(['invoked committed']);
    expect(answered).toEqual([]);
  });

  it('for a repair, has hook.invoked written at once and committed before the repair starts', async () => {
    const { steps, invoked, run } = setup(async (beforeRepair) => {
      const recorded = beforeRepair();
      steps.push('repair waits for hook.invoked');
      await recorded;
      steps.push('repair started');
      return answer;
    });
    const reply = run();
    for (let i = 0; i < 5; i++) await tick();
    expect(steps).toEqual([
      'invoked admitted',
      'answer awaited',
      'repair waits for hook.invoked',
      'invoked written now',
    ]);
    invoked.resolve();
    await expect(reply).resolves.toEqual({ cards: [card] });
    expect(steps.slice(4)).toEqual([
      'invoked committed',
      'repair started',
      'answered admitted after invoked',
      'answered recorded',
    ]);
  });

  it('records hook.invoked with hook.answered for a stored result, not in a write of its own before it', async () => {
    const { steps, answered, run } = setup(async () => answer, 'result');
    await expect(run()).resolves.toEqual({ cards: [card] });
    expect(steps).toEqual(['answer awaited', 'invoked recorded with the answer', 'answered recorded']);
    expect(answered).toEqual([{ cards: 1, invoked: { withAnswer: expect.objectContaining({ reused: 'result' }) } }]);
  });

  it('for a stored result whose output needs a repair, has hook.invoked committed before the repair starts', async () => {
    const { steps, invoked, admission, answered, run } = setup(async (beforeRepair) => {
      const recorded = beforeRepair();
      steps.push('repair waits for hook.invoked');
      await recorded;
      steps.push('repair started');
      return answer;
    }, 'result');
    const reply = run();
    for (let i = 0; i < 5; i++) await tick();
    expect(steps).toEqual([
      'answer awaited',
      'invoked admitted',
      'repair waits for hook.invoked',
      'invoked written now',
    ]);
    invoked.resolve();
    await expect(reply).resolves.toEqual({ cards: [card] });
    expect(steps.slice(4)).toEqual([
      'invoked committed',
      'repair started',
      'answered admitted after invoked',
      'answered recorded',
    ]);
    expect(answered[0]!.invoked).toBe(admission);
  });

  it('for a stored result whose cards cannot be composed, still records hook.invoked before the call fails', async () => {
    const { steps, invoked, answered, run } = setup(async () => {
      throw new Error('compose failed');
    }, 'result');
    const reply = run();
    reply.catch(() => undefined);
    for (let i = 0; i < 5; i++) await tick();
    expect(steps).toEqual(['answer awaited', 'invoked admitted', 'invoked written now']);
    invoked.resolve();
    await expect(reply).rejects.toThrow('compose failed');
    expect(steps.slice(3)).toEqual(['invoked committed']);
    expect(answered).toEqual([]);
  });
});
