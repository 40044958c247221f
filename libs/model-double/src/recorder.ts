import type { DoubleStats, RecordedRequest } from './types';

/** Oldest recordings are dropped past this many, so a long-running dev double stays small. */
export const MAX_RECORDED = 1000;

/** One recorded model-API request and how it ended, for the counters. */
export interface Exchange {
  readonly record: RecordedRequest;
  markFaulted(): void;
  /** Whether a grammar was in force (set once the flavour has judged the request). */
  setStructured(structured: boolean): void;
  /** Call once when the response closes; answered = a complete 2xx response. */
  finish(answered: boolean): void;
}

export class Recorder {
  private readonly recorded: RecordedRequest[] = [];
  private received = 0;
  private answered = 0;
  private faulted = 0;
  private inFlight = 0;

  open(record: RecordedRequest): Exchange {
    this.recorded.push(record);
    if (this.recorded.length > MAX_RECORDED) this.recorded.shift();
    this.received += 1;
    this.inFlight += 1;
    let faulted = false;
    let finished = false;
    return {
      record,
      setStructured: (structured: boolean) => {
        record.structured = structured;
      },
      markFaulted: () => {
        if (!faulted) this.faulted += 1;
        faulted = true;
        record.faulted = true;
      },
      finish: (answered: boolean) => {
        if (finished) return;
        finished = true;
        this.inFlight -= 1;
        if (answered) this.answered += 1;
      },
    };
  }

  requests(): RecordedRequest[] {
    return this.recorded.map((r) => ({ ...r, headers: { ...r.headers } }));
  }

  stats(): DoubleStats {
    return { received: this.received, answered: this.answered, faulted: this.faulted, inFlight: this.inFlight };
  }
}
