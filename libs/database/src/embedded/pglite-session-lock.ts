/** Thrown to a waiter that gave up (its connection closed) before it got the session. */
export class SessionWaitAbandonedError extends Error {
  constructor() {
    super('connection closed while waiting for the embedded database session');
    this.name = 'SessionWaitAbandonedError';
  }
}

interface Waiter {
  readonly owner: object;
  resolve(): void;
  reject(e: Error): void;
}

/**
 * The one PGlite session, held by one client connection at a time: from the first message of a unit of work
 * until that unit leaves the session clean (a Sync or simple Query answered outside a transaction block).
 * Other connections wait in arrival order; nothing is refused for being busy.
 */
export class PgliteSessionLock {
  private holder: object | undefined;
  private readonly waiters: Waiter[] = [];

  get owner(): object | undefined {
    return this.holder;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(owner: object): Promise<void> {
    if (this.holder === undefined || this.holder === owner) {
      this.holder = owner;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => this.waiters.push({ owner, resolve, reject }));
  }

  /** Hands the session to the next waiter; a no-op unless `owner` holds it. */
  release(owner: object): void {
    if (this.holder !== owner) return;
    const next = this.waiters.shift();
    this.holder = next?.owner;
    next?.resolve();
  }

  /** A connection that closed stops waiting (its acquire rejects). */
  abandon(owner: object): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.owner !== owner) continue;
      this.waiters.splice(i, 1);
      w.reject(new SessionWaitAbandonedError());
    }
  }
}
