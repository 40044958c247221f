import { Logger } from '@nestjs/common';
import type { BackendTarget } from '@app/config';
import type { InferenceRequestV1 } from '@app/contracts';
import { BackendClient, type Completion } from './backend-client';
import { BackendError } from './backend-error';

export interface PoolCompletion extends Completion {
  readonly backendId: string;
}

/**
 * Spreads requests over the backends (least outstanding requests, ties by order) and retries a failed
 * call once per other backend, always inside the request's deadline.
 */
export class BackendPool {
  private readonly logger = new Logger(BackendPool.name);
  private readonly clients: BackendClient[];
  private readonly outstanding = new Map<string, number>();

  constructor(
    targets: ReadonlyArray<BackendTarget>,
    private readonly callTimeoutMs: number,
  ) {
    this.clients = targets.map((t) => new BackendClient(t));
  }

  async complete(req: InferenceRequestV1, deadlineMs: number): Promise<PoolCompletion> {
    const tried = new Set<string>();
    let last: BackendError | undefined;
    while (tried.size < this.clients.length) {
      const remaining = deadlineMs - Date.now();
      if (remaining <= 0) throw last ?? new BackendError('timeout', 'pool');
      const client = this.pick(tried);
      tried.add(client.target.id);
      this.outstanding.set(client.target.id, (this.outstanding.get(client.target.id) ?? 0) + 1);
      try {
        const result = await client.complete(req, AbortSignal.timeout(Math.min(remaining, this.callTimeoutMs)));
        return { ...result, backendId: client.target.id };
      } catch (e) {
        last = e instanceof BackendError ? e : new BackendError('unknown', client.target.id);
        this.logger.warn(`${last.message}; ${last.retryable ? 'trying another backend' : 'not retryable'}`);
        if (!last.retryable) throw last;
      } finally {
        this.outstanding.set(client.target.id, (this.outstanding.get(client.target.id) ?? 1) - 1);
      }
    }
    throw last ?? new BackendError('unavailable', 'pool');
  }

  private pick(exclude: ReadonlySet<string>): BackendClient {
    const candidates = this.clients.filter((c) => !exclude.has(c.target.id));
    return candidates.reduce((best, c) =>
      (this.outstanding.get(c.target.id) ?? 0) < (this.outstanding.get(best.target.id) ?? 0) ? c : best,
    );
  }
}
