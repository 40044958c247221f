/** Longest path kept in a refusal record: the caller chooses the path, the audit trail keeps it for six years. */
export const MAX_AUDITED_PATH = 256;

/** One refused request (or connection), as the edge saw it. */
export interface RefusalNotice {
  readonly action: 'auth.refused' | 'request.refused';
  /** A reason code from code (AuthRefusalCode, source_rate_limited, ...). */
  readonly reason: string;
  /** sourceKey() of the caller: an IPv4 address or an IPv6 /64. */
  readonly source: string;
  readonly clientId: string | null;
  readonly tenant: string | null;
  readonly actor: string | null;
  readonly requestId: string | null;
  readonly method: string;
  readonly path: string;
}

/** Refusals of one (source, action, reason, client, actor) in one window that no audit event holds yet. */
export interface RefusalWindow {
  readonly key: string;
  /** Who and what: the first refusal of the window (its path truncated); request id dropped. */
  readonly sample: Omit<RefusalNotice, 'requestId'>;
  readonly startedMs: number;
  readonly endsMs: number;
  count: number;
}

/** Stands for every source once the table is full: such refusals are counted per action and reason only. */
export const OVERFLOW_SOURCE = '*';

export function truncatePath(path: string): string {
  return path.length > MAX_AUDITED_PATH ? path.slice(0, MAX_AUDITED_PATH) : path;
}

/**
 * The open windows, at most `maxWindows` keyed by source plus at most one per (action, reason) for the overflow.
 * Reason codes and actions are closed sets in code, so the overflow is bounded too.
 */
export class RefusalWindows {
  private readonly windows = new Map<string, RefusalWindow>();
  private readonly overflow = new Map<string, RefusalWindow>();
  /** Windows replaced by a new one of the same key before close() ran. */
  private ended: RefusalWindow[] = [];

  constructor(
    private readonly windowMs: number,
    private readonly maxWindows: number,
  ) {}

  /** The open window of this refusal, a new one (`opened`), or the overflow window of its reason (`overflowed`). */
  windowOf(
    n: Omit<RefusalNotice, 'requestId'>,
    nowMs: number,
  ): { w: RefusalWindow; opened: boolean; overflowed: boolean } {
    const key = [n.source, n.action, n.reason, n.clientId ?? '', n.actor ?? ''].join('\u0000');
    const open = this.windows.get(key);
    if (open && open.endsMs > nowMs) return { w: open, opened: false, overflowed: false };
    if (open) {
      // Its window is over: a new one starts here, the old one's count waits for the next close().
      this.windows.delete(key);
      if (open.count > 0) this.ended.push(open);
    }
    if (this.windows.size < this.maxWindows) {
      const w = this.create(key, n, nowMs);
      this.windows.set(key, w);
      return { w, opened: true, overflowed: false };
    }
    const overflowKey = [OVERFLOW_SOURCE, n.action, n.reason].join('\u0000');
    let w = this.overflow.get(overflowKey);
    if (!w) {
      const sample = { ...n, source: OVERFLOW_SOURCE, clientId: null, tenant: null, actor: null };
      w = this.create(overflowKey, sample, nowMs);
      this.overflow.set(overflowKey, w);
    }
    return { w, opened: false, overflowed: true };
  }

  /** Closes the windows that ended by `nowMs` (all of them with `all`) and returns those holding a count. */
  close(nowMs: number, all = false): RefusalWindow[] {
    const due = this.ended;
    this.ended = [];
    for (const table of [this.windows, this.overflow]) {
      for (const [key, w] of table) {
        if (!all && w.endsMs > nowMs) continue;
        table.delete(key);
        if (w.count > 0) due.push(w);
      }
    }
    return due;
  }

  get size(): number {
    return this.windows.size + this.overflow.size;
  }

  private create(key: string, n: Omit<RefusalNotice, 'requestId'>, nowMs: number): RefusalWindow {
    const sample = {
      action: n.action,
      reason: n.reason,
      source: n.source,
      clientId: n.clientId,
      tenant: n.tenant,
      actor: n.actor,
      method: n.method.slice(0, 16),
      path: truncatePath(n.path),
    };
    return { key, sample, startedMs: nowMs, endsMs: nowMs + this.windowMs, count: 0 };
  }
}
