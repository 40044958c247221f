/**
 * Who answers the EHR for one admitted hook call: the handler with its cards, or the deadline with none. The first
 * to claim wins, so the call's record can say what the EHR was actually shown (cards that were ready only after the
 * deadline answered are kept on record as withheld, never as shown). Created by LoadShedding for each admitted call.
 */
export class HookDelivery {
  private owner: 'handler' | 'deadline' | null = null;

  /** True when `by` answers the EHR: it claimed first, or had already claimed. */
  claim(by: 'handler' | 'deadline'): boolean {
    this.owner ??= by;
    return this.owner === by;
  }
}
