import { Registry } from 'prom-client';
import type { InferenceOutboxRepository } from '@app/database';
import { OUTBOX_BACKLOG_READ_MS, OutboxBacklogGauge } from './outbox-backlog.gauge';

/** The outbox backlog as a scrape reads it: the count, and the last good count when the database cannot answer. */
describe('meditron_cds_outbox_backlog', () => {
  const valueIn = async (registry: Registry): Promise<number | undefined> => {
    const m = await registry.getSingleMetric('meditron_cds_outbox_backlog')?.get();
    return m?.values[0]?.value;
  };

  it('reads the count of undelivered rows at each scrape', async () => {
    let rows = 3;
    const registry = new Registry();
    new OutboxBacklogGauge({ backlog: async () => rows } as unknown as InferenceOutboxRepository, registry);
    expect(await valueIn(registry)).toBe(3);
    rows = 0;
    expect(await valueIn(registry)).toBe(0);
    expect(await registry.metrics()).toMatch(/^meditron_cds_outbox_backlog 0$/m);
  });

  it('keeps the last count, and the scrape answers, when the database fails or does not answer in time', async () => {
    let answer: () => Promise<number> = async () => 7;
    const registry = new Registry();
    new OutboxBacklogGauge({ backlog: () => answer() } as unknown as InferenceOutboxRepository, registry);
    expect(await valueIn(registry)).toBe(7);
    answer = () => Promise.reject(new Error('connection refused'));
    expect(await valueIn(registry)).toBe(7);
    jest.useFakeTimers();
    try {
      answer = () => new Promise<number>(() => undefined);
      const scrape = valueIn(registry);
      await jest.advanceTimersByTimeAsync(OUTBOX_BACKLOG_READ_MS + 1);
      expect(await scrape).toBe(7);
    } finally {
      jest.useRealTimers();
    }
    answer = async () => 2;
    expect(await valueIn(registry)).toBe(2);
  });
});
