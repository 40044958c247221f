/** Why a hook call was answered with no cards without being worked on (or before its work was done). */
export type ShedReason = 'in_flight_limit' | 'event_loop_delay' | 'deadline';

/** A call that was let in: release() once its work (not its answer) is over, so the bound counts real work. */
export interface AdmissionTicket {
  readonly admitted: true;
  release(): void;
}

export type Admission =
  AdmissionTicket | { readonly admitted: false; readonly reason: Exclude<ShedReason, 'deadline'> };

/** Settings of the admission check (from CdsHooksConfig; 0 switches a check off). */
export interface AdmissionLimits {
  readonly maxInFlight: number;
  readonly maxEventLoopDelayMs: number;
}

/** Mean event-loop delay in ms, as the check sees it (injected in tests). */
export interface DelaySource {
  readonly currentMs: number;
}

/**
 * Admission control of the hook endpoint, per replica: at most HOOK_MAX_IN_FLIGHT calls are worked on at once
 * (a call counts until its handler is done, even if it was answered at its deadline before), and none is taken
 * while the event loop lags more than HOOK_MAX_EVENT_LOOP_DELAY_MS. A refused call costs nothing but its answer.
 */
export class AdmissionGate {
  private inFlightNow = 0;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly delay: DelaySource,
  ) {}

  get inFlight(): number {
    return this.inFlightNow;
  }

  /**
   * Resolves once no admitted call is being worked on, or after `timeoutMs`: on shutdown, calls answered at their
   * deadline are still storing their answer and must finish before the writers close.
   */
  async idle(timeoutMs: number): Promise<void> {
    if (this.inFlightNow === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => this.idleWaiters.push(r)),
      new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  enter(): Admission {
    if (this.limits.maxInFlight > 0 && this.inFlightNow >= this.limits.maxInFlight) {
      return { admitted: false, reason: 'in_flight_limit' };
    }
    if (this.limits.maxEventLoopDelayMs > 0 && this.delay.currentMs > this.limits.maxEventLoopDelayMs) {
      return { admitted: false, reason: 'event_loop_delay' };
    }
    this.inFlightNow += 1;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.inFlightNow -= 1;
        if (this.inFlightNow === 0) for (const w of this.idleWaiters.splice(0)) w();
      },
    };
  }
}
