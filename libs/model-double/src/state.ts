import type { z } from 'zod';
import { enqueuedResponseSchema, faultPlanSchema, latencySchema } from './control-schemas';
import { describeIssues } from './request-schemas';
import { FaultBook } from './faults';
import { Recorder } from './recorder';
import { Scheduler } from './scheduler';
import { DEFAULT_LIMITS } from './context-limits';
import type { ContextLimits, DoubleFlavour, DoubleMode, FaultPlan, Latency } from './types';

/** What the double is started as, besides flavour, model and latency. */
export interface EngineSettings {
  mode: DoubleMode;
  limits: ContextLimits;
  tgiVersion: string;
  maxNumQueuedReqs: number | undefined;
}

export const DEFAULT_TGI_VERSION = '3.3.4';

/** Everything the double knows and the controls change; shared by the HTTP handlers and the API. */
export class DoubleState {
  readonly faults = new FaultBook();
  readonly recorder = new Recorder();
  readonly scheduler = new Scheduler();
  private latency: Latency;
  private readonly queued: string[] = [];

  constructor(
    readonly flavour: DoubleFlavour,
    readonly model: string,
    latency: Latency,
    readonly engine: EngineSettings = {
      mode: 'instruct',
      limits: DEFAULT_LIMITS,
      tgiVersion: DEFAULT_TGI_VERSION,
      maxNumQueuedReqs: undefined,
    },
  ) {
    this.latency = checked(latencySchema, latency, 'latency');
  }

  currentLatency(): Latency {
    return { ...this.latency };
  }

  setLatency(latency: Latency): void {
    this.latency = checked(latencySchema, latency, 'latency');
  }

  injectFault(plan: FaultPlan): void {
    this.faults.inject(checked(faultPlanSchema, plan, 'fault plan'));
  }

  enqueueResponse(text: string): void {
    this.queued.push(checked(enqueuedResponseSchema, { text }, 'response').text);
  }

  /** The next enqueued answer, if any (FIFO). */
  takeResponse(): string | undefined {
    return this.queued.shift();
  }

  queuedResponses(): number {
    return this.queued.length;
  }

  /**
   * The model names requests may use. vLLM: only the served name (404 otherwise). TGI ignores the field
   * (router/src/lib.rs documents `model` as "[UNUSED]"), so any name is served.
   */
  servesModel(name: string | undefined): boolean {
    return this.flavour === 'tgi' || name === undefined || name === this.model;
  }
}

function checked<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new TypeError(`invalid ${what}: ${describeIssues(result.error)}`);
  return result.data;
}
