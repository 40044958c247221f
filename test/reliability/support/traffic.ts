/**
 * Steady hook traffic straight at cds-hooks (each call carries the per-call token the gateway would mint, naming
 * the client), or through the gateway with the EHR client's signed JWT (scenario 10). Each call carries a unique lab value, its
 * marker, so its de-identified prompt is unique and a card can be traced back to the prompt it was built from.
 */
import { randomUUID } from 'node:crypto';
import { signToken, type TestKey } from '../../support/ehr-tokens';
import { gatewayHeaders } from '../../support/internal-call';
import { TEST_INTERNAL_TOKEN_SECRET } from '../../support/stack-env';
import { prefetchFromSynthea } from '../../support/synthea';
import { BUDGET_MS, EHR_CLIENT, PUBLIC_BASE_URL } from './stack';

const DIRK = 'Dirk_Kuhlman_1e503533-b8c2-42cb-a6d5-bbd7d70d07ad.json';
const SERVICE = 'meditron-patient-view';
export const CLIENT_ID = 'reliability-ehr';
const CALL_TIMEOUT_MS = BUDGET_MS + 15_000;

let nextMarker = 10_000;
/** A fresh five-digit marker value (unique in this run). */
export function newMarker(): number {
  nextMarker += 1;
  return nextMarker;
}

export interface HookCall {
  readonly marker: number;
  readonly hookInstance: string;
  /** `x-request-id` sent; cds-hooks keeps it as the invocation's request id and in its audit events. */
  readonly requestId: string;
  readonly target: string;
  status: number;
  latencyMs: number;
  cardSummaries: string[];
  error?: string;
}

/** A patient-view call for Dirk (diabetic with CKD) with one extra glucose reading of `marker` mg/dL. */
export function hookBody(marker: number, hookInstance = randomUUID()): Record<string, unknown> {
  const { patientId, prefetch } = prefetchFromSynthea(DIRK);
  const observation = {
    resourceType: 'Observation',
    id: `reliability-${marker}`,
    status: 'final',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
    ],
    code: { coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose' }], text: 'Glucose' },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: new Date(Date.now() - 3_600_000).toISOString(),
    valueQuantity: { value: marker, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
  };
  return {
    hookInstance,
    hook: 'patient-view',
    context: { userId: 'Practitioner/example', patientId },
    prefetch: {
      ...prefetch,
      observations: { resourceType: 'Bundle', type: 'searchset', total: 1, entry: [{ resource: observation }] },
    },
  };
}

/** Sends one hook call and records what came back (never throws). */
export async function callHook(
  target: string,
  marker = newMarker(),
  hookInstance = randomUUID(),
  requestId = randomUUID(),
  /** Through the gateway, signing as the EHR client with this key. */
  ehrKey?: TestKey,
): Promise<HookCall> {
  const call: HookCall = {
    marker,
    hookInstance,
    requestId,
    target,
    status: 0,
    latencyMs: 0,
    cardSummaries: [],
  };
  const started = Date.now();
  try {
    const res = await fetch(`${target}/cds-services/${SERVICE}`, {
      method: 'POST',
      headers: {
        'x-request-id': call.requestId,
        ...(ehrKey
          ? {
              authorization: `Bearer ${await signToken(ehrKey, {
                issuer: EHR_CLIENT.issuer,
                audience: `${PUBLIC_BASE_URL}/cds-services/${SERVICE}`,
              })}`,
              'content-type': 'application/json',
            }
          : await gatewayHeaders(TEST_INTERNAL_TOKEN_SECRET, {
              clientId: CLIENT_ID,
              path: `/cds-services/${SERVICE}`,
              requestId: call.requestId,
            })),
      },
      body: JSON.stringify(hookBody(marker, hookInstance)),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    call.status = res.status;
    const json = (await res.json()) as { cards?: Array<{ summary?: unknown }> };
    call.cardSummaries = (json.cards ?? []).map((c) => String(c.summary));
  } catch (e) {
    call.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  call.latencyMs = Date.now() - started;
  return call;
}

export interface TrafficPlan {
  /** Calls to send, one every `intervalMs` (bounded in count and so in time). */
  readonly count: number;
  readonly intervalMs: number;
  /** Where call `i` goes; undefined = no replica to send to (the call is not sent). */
  target(i: number): string | undefined;
  /** Fault actions, each started `atMs` after the first call; run alongside the traffic and awaited. */
  readonly events?: ReadonlyArray<{ readonly atMs: number; run(): Promise<void> }>;
  /** Through the gateway, as the EHR client signing with this key. */
  readonly ehrKey?: TestKey;
}

/** Drives the plan; resolves when every call has its answer (or error) and every event is done. */
export async function driveTraffic(plan: TrafficPlan): Promise<HookCall[]> {
  const started = Date.now();
  const events = (plan.events ?? []).map(async (e) => {
    await sleep(e.atMs);
    await e.run();
  });
  const calls: Array<Promise<HookCall>> = [];
  for (let i = 0; i < plan.count; i++) {
    await sleep(started + i * plan.intervalMs - Date.now());
    const target = plan.target(i);
    if (target) calls.push(callHook(target, newMarker(), randomUUID(), randomUUID(), plan.ehrKey));
  }
  const [answered] = await Promise.all([Promise.all(calls), Promise.all(events)]);
  return answered;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

/** Polls `check` until it returns a value, or throws after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}
