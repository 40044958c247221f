import { Registry } from 'prom-client';
import type { ChainVerification } from '@app/audit';
import { ChainVerificationMetrics } from './chain-verification-metrics';
import { ChainVerificationSchedule } from './chain-verification-schedule';

const result = (valid: boolean): ChainVerification => ({
  valid,
  rowsChecked: 10,
  firstBreak: null,
  headId: '10',
  headHash: 'a'.repeat(64),
  checkpoints: {
    status: 'not_configured',
    checked: 0,
    beforeAnchor: 0,
    lastVerified: null,
    failures: [],
    sink: null,
    notInSink: 0,
  },
  durationMs: 1,
});

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  if (!sample) throw new Error(`no ${name} ${JSON.stringify(labels)}`);
  return sample.value;
}

describe('audit chain verification metrics', () => {
  it('reads 0 broken and zero walks of each result before any walk', async () => {
    const registry = new Registry();
    new ChainVerificationMetrics(registry);
    expect(await value(registry, 'meditron_audit_chain_broken')).toBe(0);
    for (const r of ['valid', 'broken', 'error'])
      expect(await value(registry, 'meditron_audit_chain_verifications_total', { result: r })).toBe(0);
  });

  it('raises the broken flag on a break, clears it on a valid walk, and counts walks that fail', async () => {
    const registry = new Registry();
    const metrics = new ChainVerificationMetrics(registry);
    metrics.verified(result(false));
    expect(await value(registry, 'meditron_audit_chain_broken')).toBe(1);
    expect(await value(registry, 'meditron_audit_chain_last_verification_timestamp_seconds')).toBeGreaterThan(0);
    metrics.failed();
    expect(await value(registry, 'meditron_audit_chain_broken')).toBe(1);
    metrics.verified(result(true));
    expect(await value(registry, 'meditron_audit_chain_broken')).toBe(0);
    expect(await value(registry, 'meditron_audit_chain_verifications_total', { result: 'broken' })).toBe(1);
    expect(await value(registry, 'meditron_audit_chain_verifications_total', { result: 'error' })).toBe(1);
    expect(await value(registry, 'meditron_audit_chain_verifications_total', { result: 'valid' })).toBe(1);
  });
});

describe('scheduled audit chain walks (AUDIT_CHAIN_VERIFY_MS)', () => {
  it('never walks when the interval is 0', async () => {
    const run = jest.fn(async () => result(true));
    const schedule = new ChainVerificationSchedule({ run }, 0);
    schedule.onModuleInit();
    await new Promise((r) => setImmediate(r));
    await schedule.onModuleDestroy();
    expect(run).not.toHaveBeenCalled();
  });

  it('walks every interval and keeps going after a walk that failed', async () => {
    let calls = 0;
    let twice!: () => void;
    const walkedTwice = new Promise<void>((r) => (twice = r));
    const run = jest.fn(async () => {
      calls += 1;
      if (calls === 2) twice();
      if (calls === 1) throw new Error('connection lost');
      return result(true);
    });
    const schedule = new ChainVerificationSchedule({ run }, 5);
    schedule.onModuleInit();
    await walkedTwice;
    await schedule.onModuleDestroy();
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
