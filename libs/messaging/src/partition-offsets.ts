/**
 * Offsets of one partition handed out for processing, completed in any order. Kafka commits a position
 * ("everything before this is done"), so the committable offset is the lowest still pending, or one past
 * the highest seen when nothing is pending.
 */
export class PartitionOffsets {
  private readonly pending = new Set<bigint>();
  private highest: bigint | undefined;
  private committed: bigint | undefined;

  /** False when the offset is already tracked (a re-fetch after a rebalance): do not process it twice. */
  begin(offset: string): boolean {
    const o = BigInt(offset);
    if (this.pending.has(o)) return false;
    if (this.committed !== undefined && o < this.committed) return false;
    if (this.highest !== undefined && o <= this.highest) return false;
    this.pending.add(o);
    this.highest = o;
    return true;
  }

  complete(offset: string): void {
    this.pending.delete(BigInt(offset));
  }

  /** The position to commit now, or undefined when it would not move forward. */
  committable(): string | undefined {
    if (this.highest === undefined) return undefined;
    let next = this.highest + 1n;
    for (const o of this.pending) if (o < next) next = o;
    if (this.committed !== undefined && next <= this.committed) return undefined;
    return next.toString();
  }

  committedAt(offset: string): void {
    const o = BigInt(offset);
    if (this.committed === undefined || o > this.committed) this.committed = o;
  }

  get inFlight(): number {
    return this.pending.size;
  }
}
