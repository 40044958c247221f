/**
 * What each app's Node.js runtime did during a step, from the default process metrics its /metrics serves
 * (prom-client): event-loop delay (the histogram is reset at every scrape, so a scrape just before the step makes
 * the one after it cover the step alone) and garbage-collection pauses by kind (counters, taken as differences).
 * A tail that coincides with a long loop delay or GC pause is the process's own stall; one that does not is
 * elsewhere (Postgres, the load generator, the host). In single-process mode the three apps share one loop and
 * one heap, so their figures are the same process's: the first app's stand for it.
 */
import type { Sut } from './sut-control';

export interface RuntimeStats {
  /** Event-loop delay over the step, ms (resolution 10 ms: prom-client's monitorEventLoopDelay precision). */
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  /** Garbage collections during the step by kind (minor = scavenge): count, total pause (ms), pauses over 10 ms. */
  readonly gc: Readonly<
    Record<string, { readonly count: number; readonly totalMs: number; readonly over10Ms: number }>
  >;
}

interface Sample {
  readonly loopP99: number;
  readonly loopMax: number;
  readonly gc: Map<string, GcCounters>;
}

interface GcCounters {
  count: number;
  sum: number;
  /** Collections of at most 10 ms (the histogram's le="0.01" bucket). */
  upTo10: number;
}

const GC_LINE = /^nodejs_gc_duration_seconds_(sum|count|bucket)\{([^}]*)\}\s+(\S+)/;
const LOOP_LINE = /^nodejs_eventloop_lag_(p99|max)_seconds(?:\{[^}]*\})?\s+(\S+)/;

/** One /metrics text read into a sample. */
function sampleOf(text: string): Sample {
  const gc = new Map<string, GcCounters>();
  let loopP99 = 0;
  let loopMax = 0;
  for (const line of text.split('\n')) {
    const g = GC_LINE.exec(line);
    const kind = g ? /\bkind="(\w+)"/.exec(g[2]!)?.[1] : undefined;
    if (g && kind) {
      const e = gc.get(kind) ?? { count: 0, sum: 0, upTo10: 0 };
      const v = Number(g[3]);
      if (g[1] === 'sum') e.sum = v;
      else if (g[1] === 'count') e.count = v;
      else if (/\ble="0\.01"/.test(g[2]!)) e.upTo10 = v;
      gc.set(kind, e);
      continue;
    }
    const l = LOOP_LINE.exec(line);
    if (l) {
      if (l[1] === 'p99') loopP99 = Number(l[2]);
      else loopMax = Number(l[2]);
    }
  }
  return { loopP99, loopMax, gc };
}

/** What happened between two samples of one app. */
function between(before: Sample, after: Sample): RuntimeStats {
  const gc: Record<string, { count: number; totalMs: number; over10Ms: number }> = {};
  for (const [kind, a] of after.gc) {
    const b = before.gc.get(kind) ?? { count: 0, sum: 0, upTo10: 0 };
    const count = a.count - b.count;
    const over10Ms = count - (a.upTo10 - b.upTo10);
    if (count > 0) gc[kind] = { count, totalMs: Math.round((a.sum - b.sum) * 10_000) / 10, over10Ms };
  }
  const ms = (s: number): number => Math.round(s * 10_000) / 10;
  return { loopP99Ms: ms(after.loopP99), loopMaxMs: ms(after.loopMax), gc };
}

/** The apps whose figures are their own process's: one per process (single mode: the first app only). */
function sources(sut: Sut): Array<[string, string]> {
  const urls = Object.entries(sut.ready.metricsUrls ?? {}).filter(([, u]) => Boolean(u));
  return sut.kind === 'single' ? urls.slice(0, 1).map(([, u]) => ['sut', u]) : urls;
}

async function scrape(url: string): Promise<Sample | undefined> {
  const text = await fetch(`${url}/metrics`).then(
    (r) => (r.ok ? r.text() : undefined),
    () => undefined,
  );
  return text === undefined ? undefined : sampleOf(text);
}

/** Starts a step's window (the scrape resets the loop-delay histograms); stop() gives each process's figures. */
export async function startRuntimeStats(sut: Sut): Promise<{ stop(): Promise<Record<string, RuntimeStats>> }> {
  const from = await Promise.all(sources(sut).map(async ([name, url]) => [name, url, await scrape(url)] as const));
  return {
    async stop() {
      const out: Record<string, RuntimeStats> = {};
      for (const [name, url, before] of from) {
        const after = await scrape(url);
        if (before && after) out[name] = between(before, after);
      }
      return out;
    },
  };
}

/** "loop p99/max 10/40 ms, gc minor 7×21 ms major 1×12 ms" per process. */
export function runtimeText(stats: Readonly<Record<string, RuntimeStats>>): string {
  return Object.entries(stats)
    .map(([name, s]) => {
      const gc = Object.entries(s.gc)
        .map(([kind, g]) => `${kind} ${g.count}×${g.totalMs} ms${g.over10Ms > 0 ? ` (${g.over10Ms} > 10 ms)` : ''}`)
        .join(' ');
      return `${name} loop p99/max ${s.loopP99Ms}/${s.loopMaxMs} ms${gc ? `, gc ${gc}` : ''}`;
    })
    .join('; ');
}
