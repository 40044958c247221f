export interface Slot {
  release(): void;
}

/** Why no slot was granted: the deadline passed in the queue, or the queue was full (or the waiter was pushed out). */
export type SlotRefusal = 'deadline_passed' | 'queue_full';

interface Waiter {
  readonly priority: number;
  readonly seq: number;
  grant(slot: Slot | SlotRefusal): void;
}

/**
 * A fixed number of inference slots handed out by priority (lower = more urgent: order-sign before
 * order-select before patient-view), first come first served within a priority. A waiter whose deadline
 * passes while queued never reaches a GPU. At most `queueCapacity` wait: when full, a more urgent request
 * takes the place of the least urgent, latest waiter, else it is refused at once (both never reach a GPU).
 */
export class PrioritySlots {
  private inUse = 0;
  private seq = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly capacity: number,
    private readonly queueCapacity = Number.POSITIVE_INFINITY,
  ) {}

  get active(): number {
    return this.inUse;
  }

  get queued(): number {
    return this.waiters.length;
  }

  acquire(priority: number, deadlineMs: number): Promise<Slot | SlotRefusal> {
    if (this.inUse < this.capacity && this.waiters.length === 0) return Promise.resolve(this.take());
    if (this.waiters.length >= this.queueCapacity) {
      const last = this.waiters.at(-1);
      if (!last || last.priority <= priority) return Promise.resolve('queue_full');
      this.waiters.pop();
      last.grant('queue_full');
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        priority,
        seq: this.seq++,
        grant: (slot) => {
          clearTimeout(timer);
          resolve(slot);
        },
      };
      const timer = setTimeout(
        () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve('deadline_passed');
        },
        Math.max(0, deadlineMs - Date.now()),
      );
      timer.unref();
      this.insert(waiter);
    });
  }

  private take(): Slot {
    this.inUse += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inUse -= 1;
        const next = this.waiters.shift();
        if (next) next.grant(this.take());
      },
    };
  }

  /** Sorted insert: the queue is short (bounded by queueCapacity), so a linear scan is enough. */
  private insert(w: Waiter): void {
    let i = this.waiters.length;
    while (i > 0) {
      const prev = this.waiters[i - 1];
      if (!prev || prev.priority <= w.priority) break;
      i -= 1;
    }
    this.waiters.splice(i, 0, w);
  }
}
