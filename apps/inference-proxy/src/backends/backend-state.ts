import type { BackendTarget } from '@app/config';
import type { BackendFacts } from './backend-facts';

/** Queue figures a backend reports about itself; null until the first successful scrape. */
export interface BackendQueue {
  readonly waiting: number;
  readonly running: number;
  /** 0..1; null for TGI, which does not export it. */
  readonly kvCacheUsage: number | null;
}

export type CooldownReason = 'overloaded' | 'unavailable' | 'timeout' | 'connection';

const MAX_COOLDOWN_FACTOR = 8;
/** Weight of the newest observation in the latency average. */
const LATENCY_ALPHA = 0.3;

/** What the pool knows about one backend: health, cooldown, this replica's outstanding calls, its own queue. */
export class BackendState {
  healthy = true;
  /** Gone from discovery: takes no new calls; removed from the pool once its outstanding calls finish. */
  draining = false;
  outstanding = 0;
  /** Calls started, for tie-breaking between equally loaded backends. */
  started = 0;
  queue: BackendQueue | null = null;
  /** What the backend last reported about itself (health probe); null until then. */
  facts: BackendFacts | null = null;
  /**
   * Moving average of a call's seconds per generated token. vLLM shows overload as queueing, not as an error:
   * a backend that queues takes longer per token than its peers, which routing reads as load.
   */
  secondsPerToken: number | null = null;
  /** When that average last changed (epoch ms): an old one fades, so a backend that was slow gets tried again. */
  latencyObservedAt = 0;
  private cooldownUntil = 0;
  private cooldownStreak = 0;

  constructor(
    readonly target: BackendTarget,
    /** Id of the discovery source (`INFERENCE_BACKENDS` entry) this engine was found through; null when listed. */
    readonly source: string | null = null,
  ) {}

  get id(): string {
    return this.target.id;
  }

  coolingDown(now: number): boolean {
    return now < this.cooldownUntil;
  }

  cooldownEndsAt(): number {
    return this.cooldownUntil;
  }

  available(now: number): boolean {
    return this.healthy && !this.draining && !this.coolingDown(now);
  }

  /** Repeated cooldowns back off (x2 each, up to 8x) so a flapping backend is tried less often. */
  coolDown(baseMs: number, now: number): void {
    const factor = Math.min(MAX_COOLDOWN_FACTOR, 2 ** this.cooldownStreak);
    this.cooldownStreak += 1;
    this.cooldownUntil = now + baseMs * factor;
  }

  succeeded(): void {
    this.cooldownStreak = 0;
  }

  observeLatency(seconds: number, tokensOut: number | null, now = Date.now()): void {
    this.latencyObservedAt = now;
    const sample = seconds / Math.max(1, tokensOut ?? 1);
    this.secondsPerToken =
      this.secondsPerToken === null ? sample : (1 - LATENCY_ALPHA) * this.secondsPerToken + LATENCY_ALPHA * sample;
  }

  /** A passing health probe (after a failing one) ends a cooldown: the backend said it is ready again. */
  readmit(): void {
    // What it was like before it failed says nothing about the restarted server.
    this.secondsPerToken = null;
    this.healthy = true;
    this.cooldownUntil = 0;
    this.cooldownStreak = 0;
  }
}
