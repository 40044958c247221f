import type { InferenceOutboxRepository } from '@app/database';
import { DeliveredOutbox } from './delivered-outbox.service';

function outboxRecording(fail = false) {
  const batches: string[][] = [];
  const outbox = {
    removeAll: async (ids: ReadonlyArray<string>) => {
      batches.push([...ids]);
      if (fail) throw new Error('connection terminated');
    },
  } as unknown as InferenceOutboxRepository;
  return { outbox, batches };
}

describe('DeliveredOutbox', () => {
  it('removes the rows of messages delivered together in one DELETE', async () => {
    const { outbox, batches } = outboxRecording();
    const delivered = new DeliveredOutbox(outbox);
    for (const id of ['r1', 'r2', 'r3']) delivered.delivered(id);
    await new Promise((r) => setTimeout(r, 50));
    expect(batches).toEqual([['r1', 'r2', 'r3']]);
    delivered.delivered('r4');
    await delivered.beforeApplicationShutdown();
    expect(batches).toEqual([['r1', 'r2', 'r3'], ['r4']]);
  });

  it('leaves the rows to the relay when the DELETE fails (never throws on the hook path)', async () => {
    const { outbox, batches } = outboxRecording(true);
    const delivered = new DeliveredOutbox(outbox);
    delivered.delivered('r1');
    await expect(delivered.flush()).resolves.toBeUndefined();
    expect(batches).toEqual([['r1']]);
  });
});
