import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { InferenceOutboxRepository } from '@app/database';

/**
 * How long delivered ids gather before one DELETE removes them all. A delivered row is never due for the relay before
 * its call's deadline + 1 s (InferenceStarter's RELAY_GRACE_MS), so it can wait this long: at 50 hooks/s a window of
 * 100 ms removes about five rows per statement instead of one (10 ms gathered one).
 */
export const GATHER_MS = 100;
/** A window that gathers this many ids is removed at once (bounds the statement's array). */
export const GATHER_MAX = 256;

/**
 * Removes the outbox rows of messages a broker took, gathered into one DELETE per short window instead of one per
 * hook call. Off the hook's path: a row left behind (a failed DELETE, a crash before it) is only published again
 * by the relay, which the proxy ignores (it runs a request id once).
 */
@Injectable()
export class DeliveredOutbox implements BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveredOutbox.name);
  private readonly ids = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly outbox: InferenceOutboxRepository) {}

  /** The message of `requestId` was delivered: its row goes with the next batch. */
  delivered(requestId: string): void {
    this.ids.add(requestId);
    if (this.ids.size >= GATHER_MAX) {
      void this.flush();
      return;
    }
    this.timer ??= setTimeout(() => void this.flush(), GATHER_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  /** Removes what has gathered (also called by tests). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.ids.size === 0) return;
    const ids = [...this.ids];
    this.ids.clear();
    await this.outbox.removeAll(ids).catch((e: unknown) => {
      this.logger.warn(
        `removing ${ids.length} delivered outbox rows failed, left to the relay: ${e instanceof Error ? e.name : 'error'}`,
      );
    });
  }
}
