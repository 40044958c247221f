/** The double's view of its "engine": generation requests waiting for a first token, and running. */

/** Pretend KV-cache capacity in concurrent sequences; usage = in-flight / this, capped at 1. */
export const KV_CACHE_SLOTS = 16;

export interface GenerationTicket {
  /** The first token is out: waiting -> running. */
  started(): void;
  /** Done, failed or abandoned; safe to call more than once. */
  finished(): void;
}

export interface EngineGauges {
  waiting: number;
  running: number;
  kvCacheUsage: number;
}

export class Scheduler {
  private waiting = 0;
  private running = 0;

  admit(): GenerationTicket {
    let phase: 'waiting' | 'running' | 'done' = 'waiting';
    this.waiting += 1;
    return {
      started: () => {
        if (phase !== 'waiting') return;
        phase = 'running';
        this.waiting -= 1;
        this.running += 1;
      },
      finished: () => {
        if (phase === 'waiting') this.waiting -= 1;
        if (phase === 'running') this.running -= 1;
        phase = 'done';
      },
    };
  }

  /** Waiting + running: what vLLM's `--max-num-queued-reqs` bounds. */
  inFlight(): number {
    return this.waiting + this.running;
  }

  gauges(): EngineGauges {
    const inFlight = this.waiting + this.running;
    return { waiting: this.waiting, running: this.running, kvCacheUsage: Math.min(1, inFlight / KV_CACHE_SLOTS) };
  }
}
