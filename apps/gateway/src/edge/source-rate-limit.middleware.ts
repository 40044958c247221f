import { HttpStatus, Inject, Injectable, type NestMiddleware, type OnModuleDestroy } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { RefusedException } from '@app/auth';
import { PeriodicTask } from '@app/timing';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { TokenBuckets } from '../rate-limit/token-buckets';
import { sourceKey } from './client-source';

/** Idle sources' buckets are dropped this often. */
const SWEEP_MS = 60_000;

/**
 * Per-source rate limit on every request, before any route guard reads a token: a source over its limit costs one
 * map lookup, never a JWT verification, a JWKS fetch or a replay-table query. The source is the client address
 * (`req.ip`, which believes X-Forwarded-For only from EDGE_TRUSTED_PROXIES), IPv6 by /64. The table is bounded
 * (EDGE_MAX_SOURCES, least recently used forgotten first). Over the limit: 429 with Retry-After, audited through
 * the refusal aggregator like every other refusal.
 * Not @nestjs/throttler (a guard, so ordered among the route guards, and its store has no cap on keys) nor
 * express-rate-limit (its memory store has no cap on keys either): the gateway's tested token buckets with an LRU cap.
 */
@Injectable()
export class SourceRateLimitMiddleware implements NestMiddleware, OnModuleDestroy {
  private readonly buckets: TokenBuckets;
  private readonly sweeper: PeriodicTask;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.buckets = new TokenBuckets(
      { perSecond: config.EDGE_RATE_LIMIT_PER_SECOND, burst: config.EDGE_RATE_LIMIT_BURST },
      Date.now,
      config.EDGE_MAX_SOURCES,
    );
    this.sweeper = new PeriodicTask(SWEEP_MS, () => this.buckets.sweep(), { immediate: false });
    this.sweeper.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.sweeper.stop();
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const taken = this.buckets.take(sourceKey(req.ip));
    if (taken.allowed) return next();
    res.setHeader('Retry-After', String(taken.retryAfterS));
    throw new RefusedException(
      { action: 'request.refused', reason: 'source_rate_limited' },
      HttpStatus.TOO_MANY_REQUESTS,
      'source_rate_limited',
    );
  }
}
