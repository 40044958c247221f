import type { InferenceOutboxRepository } from '@app/database';
import { DeliveredOutbox, GATHER_MAX, GATHER_MS } from './delivered-outbox.service';

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
    await new Promise((r) => setTimeout(r, GATHER_MS / 2));
    expect(batches).toEqual([]);
    await new Promise((r) => setTimeout(r, GATHER_MS));
    expect(batches).toEqual([['r1', 'r2', 'r3']]);
    delivered.delivered('r4');
    await delivered.beforeApplicationShutdown();
    expect(batches).toEqual([['r1', 'r2', 'r3'], ['r4']]);
  });

  it('removes a full window at once, without waiting for its timer', async () => {
    const { outbox, batches } = outboxRecording();
    const delivered = new DeliveredOutbox(outbox);
    const ids = Array.from({ length: GATHER_MAX + 1 }, (_, i) => `r${i}`);
    for (const id of ids) delivered.delivered(id);
    await Promise.resolve();
    expect(batches).toEqual([ids.slice(0, GATHER_MAX)]);
    await delivered.beforeApplicationShutdown();
    expect(batches).toEqual([ids.slice(0, GATHER_MAX), ids.slice(GATHER_MAX)]);
  });

  it('leaves the rows to the relay when the DELETE fails (never throws on the hook path)', async () => {
    const { outbox, batches } = outboxRecording(true);
    const delivered = new DeliveredOutbox(outbox);
    delivered.delivered('r1');
    await expect(delivered.flush()).resolves.toBeUndefined();
    expect(batches).toEqual([['r1']]);
  });
});
