/** The load job of one hook step through the gateway: no side effects, so the probes can use it too. */
import { STEP_S } from './options';
import type { Sut } from './sut-control';
import type { LoadJob, SutReady } from './types';

export interface HookJobOptions {
  name: string;
  hook: 'patient-view' | 'order-sign';
  vary: boolean;
  seed: number;
  rate?: number;
  connections: number;
  durationS?: number;
  mode?: 'open' | 'closed';
  budgetMs?: number;
  /** Hand back every answer's schedule and latency (bench/lib/stall-timeline.ts lines them up with samples). */
  timeline?: boolean;
}

/** A hook load job against a started stack (its gateway URL and the dev EHR client's key). */
export function hookJobFor(ready: SutReady, o: HookJobOptions): LoadJob {
  const service = o.hook === 'patient-view' ? 'meditron-patient-view' : 'meditron-order-sign';
  const path = `/cds-services/${service}`;
  return {
    name: o.name,
    origin: ready.gatewayUrl,
    paths: [path],
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    },
    auth: { kind: 'ehr', key: ready.key, audience: `${ready.publicBaseUrl}${path}` },
    body: { kind: 'hook', hook: o.hook, vary: o.vary, seed: o.seed },
    mode: o.mode ?? 'open',
    ...(o.rate !== undefined ? { rate: o.rate } : {}),
    connections: o.connections,
    durationS: o.durationS ?? STEP_S,
    timeoutMs: 15_000,
    inspectCards: true,
    ...(o.budgetMs !== undefined ? { budgetMs: o.budgetMs } : {}),
    ...(o.timeline ? { timeline: true } : {}),
  };
}

export function hookJob(sut: Sut, o: HookJobOptions): LoadJob {
  return hookJobFor(sut.ready, o);
}
