import { readFileSync } from 'node:fs';

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: CpuNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileRow {
  readonly fn: string;
  readonly where: string;
  readonly selfMs: number;
  readonly selfPct: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  readonly idlePct: number;
  readonly top: ProfileRow[];
  /** Self time grouped by package or source folder. */
  readonly byArea: Array<{ area: string; selfMs: number; selfPct: number }>;
}

function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]!}`;
  const app = /\/(apps\/[^/]+|libs\/[^/]+|tools\/[^/]+|test\/support)\//.exec(url);
  return app ? app[1]! : url.replace(/^file:\/\//, '');
}

/** Self time per function (from the sample deltas), the top `n`, and per package / app folder. */
export function summarizeProfile(file: string, n = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0) / 1000);
  }
  const total = [...self.values()].reduce((s, v) => s + v, 0) || 1;
  const byFn = new Map<string, { fn: string; where: string; ms: number }>();
  const byArea = new Map<string, number>();
  let idle = 0;
  for (const node of p.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (ms === 0) continue;
    const fn = node.callFrame.functionName || '(anonymous)';
    if (fn === '(idle)') idle += ms;
    const file = node.callFrame.url.replace(/^file:\/\//, '').replace(/^.*\/work\/main\//, '');
    const where = file ? `${file}:${node.callFrame.lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const e = byFn.get(key) ?? { fn, where, ms: 0 };
    e.ms += ms;
    byFn.set(key, e);
    const a = area(node.callFrame.url, fn);
    byArea.set(a, (byArea.get(a) ?? 0) + ms);
  }
  const pct = (v: number): number => Math.round((v / total) * 1000) / 10;
  return {
    file,
    totalMs: Math.round(total),
    idlePct: pct(idle),
    top: [...byFn.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, n)
      .map((e) => ({ fn: e.fn, where: e.where, selfMs: Math.round(e.ms), selfPct: pct(e.ms) })),
    byArea: [...byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([a, ms]) => ({ area: a, selfMs: Math.round(ms), selfPct: pct(ms) })),
  };
}
