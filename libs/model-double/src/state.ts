import type { z } from 'zod';
import { enqueuedResponseSchema, faultPlanSchema, latencySchema } from './control-schemas';
import { describeIssues } from './request-schemas';
import { FaultBook } from './faults';
import { Recorder } from './recorder';
import { Scheduler } from './scheduler';
import type { DoubleFlavour, FaultPlan, Latency } from './types';

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

  /** The model names requests may use: the served id, and 'tgi' as TGI itself accepts. */
  servesModel(name: string | undefined): boolean {
    return name === undefined || name === this.model || (this.flavour === 'tgi' && name === 'tgi');
  }
}

function checked<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new TypeError(`invalid ${what}: ${describeIssues(result.error)}`);
  return result.data;
}
