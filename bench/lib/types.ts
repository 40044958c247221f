import type { JWK } from 'jose';

/** The dev EHR client's signing key, as the SUT hands it to the load generator. */
export interface EhrSigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateJwk: JWK;
  readonly issuer: string;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** How every request of a load step is authenticated. */
export type LoadAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly token: string }
  /** A fresh single-use EHR JWT per request (jti is accepted once), minted before the step starts. */
  | { readonly kind: 'ehr'; readonly key: EhrSigningKey; readonly audience: string };

/** What each request carries. */
export type LoadBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'static'; readonly text: string }
  /** A CDS Hooks request built from the Synthea prefetch; `vary` makes each prompt distinct (a cache miss). */
  | {
      readonly kind: 'hook';
      readonly hook: 'patient-view' | 'order-sign';
      readonly vary: boolean;
      readonly seed: number;
    };

export interface LoadJob {
  readonly name: string;
  readonly origin: string;
  /** Paths taken in turn, one per request. */
  readonly paths: readonly string[];
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: LoadAuth;
  readonly body: LoadBody;
  /**
   * open: requests start on a fixed schedule (rate per second) whatever the answers do, latency measured from
   * the scheduled start (no coordinated omission). closed: autocannon with a fixed number of connections.
   */
  readonly mode: 'open' | 'closed';
  readonly rate?: number;
  readonly connections: number;
  readonly durationS: number;
  readonly timeoutMs: number;
  /** Reads the response body to count empty-card answers (`{"cards":[]}`) and bytes. */
  readonly inspectCards?: boolean;
  /** Counts 2xx answers that came back within this many ms (a hook's answer budget). */
  readonly budgetMs?: number;
  /** Open loop: hand back every answer's schedule and latency (LoadResult.answers), to line them up with samples. */
  readonly timeline?: boolean;
}

/** Every answer of an open-loop step, in completion order: when it was due and how long it took. */
export interface StepAnswers {
  /** The step's start as epoch ms (the generator's performance.timeOrigin + its start): other processes' clock. */
  readonly startEpochMs: number;
  /** Each answer's scheduled start, ms after the step's start. */
  readonly dueMs: readonly number[];
  /** Each answer's latency from its scheduled start, ms. */
  readonly latencyMs: readonly number[];
}

export interface LoadResult {
  readonly name: string;
  readonly mode: 'open' | 'closed';
  readonly offeredRps: number | null;
  readonly connections: number;
  readonly durationS: number;
  readonly requests: number;
  readonly completed: number;
  readonly throughputRps: number;
  readonly latencyMs: LatencySummary;
  readonly status: Readonly<Record<string, number>>;
  /** Non-2xx answers + transport errors + timeouts. */
  readonly errors: number;
  readonly timeouts: number;
  readonly transportErrors: number;
  /** 200 answers with no cards (the hook deadline passed before the model answered). */
  readonly emptyCards: number;
  readonly bytesPerS: number;
  readonly mintMs: number;
  readonly firstError?: string;
  /** Only for the open mode: requests sent late because the generator itself could not keep up. */
  readonly lateStarts?: number;
  /** 2xx answers within the job's budgetMs (when it set one). */
  readonly withinBudget?: number;
  /** Open loop: the load generator's own event-loop delay and longest GC pause over the step (ms). */
  readonly generator?: { readonly loopMaxMs: number; readonly gcMaxMs: number };
  /** Open loop: the ten slowest answers, each with when (s after the step's start) it was due. */
  readonly slowest?: ReadonlyArray<{ readonly atS: number; readonly ms: number }>;
  /** Open loop, when the job asked for a timeline: every answer's schedule and latency. */
  readonly answers?: StepAnswers;
  /** Every completed request's latency sorted (kept only when asked, for the plot). */
  readonly latencies?: readonly number[];
}

export type WorkerRequest = { readonly id: number; readonly job: LoadJob };
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly result: LoadResult }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** Messages from a system-under-test child process. */
export interface SutReady {
  readonly type: 'ready';
  readonly gatewayUrl: string;
  readonly cdsHooksUrl: string;
  readonly inferenceProxyUrl: string;
  readonly publicBaseUrl: string;
  readonly databaseUrl: string;
  readonly mode: { readonly database: string; readonly transport: string; readonly model: string };
  readonly key: EhrSigningKey;
  /** Each app's metrics listener (`GET /metrics`), by app. */
  readonly metricsUrls?: Readonly<Record<string, string>>;
  /** Deployed mode: each app's process id, by app (single-process mode: the SUT child itself). */
  readonly pids?: Readonly<Record<string, number>>;
}
export interface SutFailed {
  readonly type: 'failed';
  readonly error: string;
}
export type SutMessage = SutReady | SutFailed;
