import type { FaultKind, FaultPlan } from './types';

interface PendingFault {
  kind: FaultKind;
  remaining: number | undefined; // undefined = until cleared
  delayMs: number;
}

export interface AppliedFault {
  kind: FaultKind;
  delayMs: number;
}

/** FIFO of fault plans. Generation requests take from the head; probes only peek. */
export class FaultBook {
  private readonly pending: PendingFault[] = [];

  inject(plan: FaultPlan): void {
    this.pending.push({ kind: plan.kind, remaining: plan.count, delayMs: plan.delayMs ?? 0 });
  }

  clear(): void {
    this.pending.length = 0;
  }

  /** The fault in force, without using it up (for /health and /v1/models). */
  peek(): AppliedFault | undefined {
    const head = this.pending[0];
    return head ? { kind: head.kind, delayMs: head.delayMs } : undefined;
  }

  /** The fault for this generation request, using up one of its count. */
  take(): AppliedFault | undefined {
    const head = this.pending[0];
    if (!head) return undefined;
    if (head.remaining !== undefined) {
      head.remaining -= 1;
      if (head.remaining <= 0) this.pending.shift();
    }
    return { kind: head.kind, delayMs: head.delayMs };
  }

  list(): FaultPlan[] {
    return this.pending.map((p) => ({
      kind: p.kind,
      ...(p.remaining !== undefined ? { count: p.remaining } : {}),
      ...(p.kind === 'slow' ? { delayMs: p.delayMs } : {}),
    }));
  }
}
