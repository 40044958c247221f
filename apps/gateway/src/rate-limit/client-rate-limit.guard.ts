import {
  HttpStatus,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { RefusedException } from '@app/auth';
import { PeriodicTask } from '@app/timing';
import { callerOf } from '../auth/caller';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { TokenBuckets } from './token-buckets';

/** Idle clients' buckets are dropped this often. */
const SWEEP_MS = 60_000;

/**
 * Per-client rate limit, after EhrAuthGuard: 429 with Retry-After. Every refusal goes to the refusal aggregator,
 * which writes the first of a window as its own event and the rest as one counted event.
 */
@Injectable()
export class ClientRateLimitGuard implements CanActivate, OnModuleDestroy {
  private readonly buckets: TokenBuckets;
  private readonly sweeper: PeriodicTask;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.buckets = new TokenBuckets({ perSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST });
    this.sweeper = new PeriodicTask(SWEEP_MS, () => this.buckets.sweep(), { immediate: false });
    this.sweeper.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.sweeper.stop();
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Request>();
    const res = ctx.switchToHttp().getResponse<Response>();
    const { client } = callerOf(req);
    const taken = this.buckets.take(client.id, client.rateLimit);
    if (taken.allowed) return true;
    res.setHeader('Retry-After', String(taken.retryAfterS));
    throw new RefusedException(
      { action: 'request.refused', reason: 'rate_limited', clientId: client.id, tenant: client.tenant },
      HttpStatus.TOO_MANY_REQUESTS,
      'rate limited',
    );
  }
}
