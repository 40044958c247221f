/** The model double's process: start, latency profile, queued answers, its own time per call. */
import type { ChildProcess } from 'node:child_process';
import { REALISTIC } from './options';
import { findingsAnswer } from './payloads';
import { forkTs, waitReady } from './procs';
import { summarize } from './stats';

export interface Double {
  child: ChildProcess;
  url: string;
  baseUrl: string;
}

export async function startDouble(): Promise<Double> {
  const child = forkTs('double.ts', { ...process.env });
  const ready = await waitReady<{ type: string; url: string; baseUrl: string }>(child, 30_000, 'model double');
  return { child, url: ready.url, baseUrl: ready.baseUrl };
}

export async function doubleControl(d: Double, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${d.url}/_double/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`double ${path}: ${res.status} ${await res.text()}`);
}

export async function doubleStats(d: Double): Promise<{ received: number; answered: number }> {
  const res = await fetch(`${d.url}/_double/stats`);
  return (await res.json()) as { received: number; answered: number };
}

/** Queues `n` answers of the realistic length (150 tokens) on the double. */
export async function enqueueAnswers(d: Double, n: number): Promise<void> {
  const { text } = findingsAnswer(REALISTIC.tokens);
  for (let i = 0; i < n; i += 32) {
    await Promise.all(Array.from({ length: Math.min(32, n - i) }, () => doubleControl(d, 'responses', { text })));
  }
}

export const realisticLatency = { ttftMs: REALISTIC.ttftMs, perTokenMs: REALISTIC.perTokenMs };

/** The double's own time per generation at a profile, measured by calling it directly (low load). */
export async function calibrateDouble(
  d: Double,
  profile: 'zero' | 'realistic',
): Promise<{ p50: number; mean: number }> {
  const body = JSON.stringify({
    model: 'meditron-70b',
    prompt: 'calibration <|im_start|>user P1 ... <|im_end|>',
    max_tokens: 400,
    response_format: { type: 'json_object' },
  });
  const n = profile === 'zero' ? 40 : 8;
  if (profile === 'realistic') await enqueueAnswers(d, n);
  const times: number[] = [];
  for (let i = 0; i < n; i += 4) {
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const s = performance.now();
        const res = await fetch(`${d.baseUrl}/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.text();
        times.push(performance.now() - s);
      }),
    );
  }
  const sum = summarize(times);
  return { p50: sum.p50, mean: sum.mean };
}

/**
 * One chat completion as the facade comparison and the host calibration send it (the same request, so the
 * calibration's direct figure compares with the facade table's direct row).
 */
export const DIRECT_CHAT_BODY = JSON.stringify({
  model: 'meditron-70b',
  messages: [{ role: 'user', content: 'Summarise the renal dosing considerations for metformin in two sentences.' }],
  max_tokens: 64,
});
