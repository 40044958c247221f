import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ChainVerification } from '@app/audit';
import { METRICS_REGISTRY } from '@app/observability';

/**
 * What every walk of the audit chain found (scheduled or asked for through the compliance API), for the
 * "audit chain verification failing" alert: `meditron_audit_chain_broken` is 1 while the last walk found a break,
 * and walks that could not finish count as `error`.
 */
@Injectable()
export class ChainVerificationMetrics {
  private readonly walks: Counter<'result'>;
  private readonly broken: Gauge;
  private readonly lastWalk: Gauge;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const registers = [registry];
    this.walks = new Counter({
      name: 'meditron_audit_chain_verifications_total',
      help: 'Audit chain verifications, by result: valid, broken, or error (the walk could not finish).',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['valid', 'broken', 'error']) this.walks.inc({ result }, 0);
    this.broken = new Gauge({
      name: 'meditron_audit_chain_broken',
      help: '1 when the last audit chain verification found a break, 0 when it was valid or none ran yet.',
      registers,
    });
    this.lastWalk = new Gauge({
      name: 'meditron_audit_chain_last_verification_timestamp_seconds',
      help: 'When the last audit chain verification finished (valid or broken); 0 before the first.',
      registers,
    });
  }

  verified(result: ChainVerification): void {
    this.walks.inc({ result: result.valid ? 'valid' : 'broken' });
    this.broken.set(result.valid ? 0 : 1);
    this.lastWalk.set(Date.now() / 1000);
  }

  failed(): void {
    this.walks.inc({ result: 'error' });
  }
}
