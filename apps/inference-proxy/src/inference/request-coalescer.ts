/**
 * Joins identical requests in flight: the first one (the leader) calls the backend, the others wait for
 * its answer. A leader's failure is shared too; followers were never going to get a different answer.
 */
export class RequestCoalescer<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  async run(key: string, call: () => Promise<T>): Promise<{ value: T; shared: boolean }> {
    const existing = this.inFlight.get(key);
    if (existing) return { value: await existing, shared: true };
    const promise = call().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return { value: await promise, shared: false };
  }

  get size(): number {
    return this.inFlight.size;
  }
}
