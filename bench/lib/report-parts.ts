/** The report's per-part sections (steps, facade, audit, soak) and the CPU profile section. */
import type { PartRecord, StepRecord } from './results';
import type { ProfileSummary } from './profile';
import { contentionText, f, pgCpuText, procUsage, runtimeCell, table } from './report-util';
import type { LatencySummary, LoadResult } from './types';
import type { SoakTrend } from './memory-trend';

function stepsTable(steps: StepRecord[]): string {
  return table(
    [
      'series',
      'hook',
      'load',
      'achieved/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'model ms',
      'overhead p50',
      'overhead p99',
      'errors',
      'empty cards',
      'model calls',
      'sustained',
      'settle s',
      'RSS peak, CPU % of a core',
      'loop delay max, full GCs (load: the generator)',
      'Postgres CPU ms/hook by app',
      'machine busy/steal %; on-CPU/run-queue wait ms/hook by group; PSI',
    ],
    steps.map((s) => [
      s.series,
      s.hook,
      s.mode === 'open' ? `${s.offeredRps}/s open` : `c=${s.connections} closed`,
      f(s.throughputRps),
      f(s.latencyMs.p50),
      f(s.latencyMs.p95),
      f(s.latencyMs.p99),
      f(s.modelMs),
      f(s.overheadMs.p50),
      f(s.overheadMs.p99),
      `${s.errors}${s.firstError ? ` (${s.firstError.slice(0, 60).replace(/\|/g, '/')})` : ''}`,
      String(s.emptyCards),
      s.modelCalls === null ? '–' : String(s.modelCalls),
      s.mode !== 'open' ? '–' : s.sustained ? 'yes' : 'no',
      s.settle ? `${f(s.settle.waitedMs / 1000)}${s.settle.idle ? '' : ' (not idle)'}` : '–',
      procUsage(s),
      runtimeCell(s),
      pgCpuText(s.pgCpu),
      contentionText(s.cpuContention),
    ]),
  );
}

export function profileSection(p: ProfileSummary | { error: string } | undefined): string {
  if (!p) return '_No profile._';
  if ('error' in p) return `_Profile failed: ${p.error}_`;
  return [
    `Sampled ${f(p.totalMs / 1000)} s of the system-under-test process (idle ${p.idlePct} %).`,
    '',
    'Self time by package / source folder:',
    '',
    table(
      ['area', 'self ms', 'self %'],
      p.byArea.map((a) => [a.area, String(a.selfMs), f(a.selfPct)]),
    ),
    '',
    'Top functions by self time:',
    '',
    table(
      ['function', 'where', 'self ms', 'self %'],
      p.top.map((t) => [`\`${t.fn}\``, t.where.replace(/\|/g, '/'), String(t.selfMs), f(t.selfPct)]),
    ),
  ].join('\n');
}

const lat = (l: LatencySummary): string[] => [f(l.p50), f(l.p95), f(l.p99)];

export function partSection(p: PartRecord): string {
  const out: string[] = [`### ${p.name} (${p.ok ? 'ok' : 'FAILED'}, ${p.durationS} s)`, ''];
  if (p.error) out.push(`**Error:** ${p.error}`, '');
  for (const n of p.notes) out.push(`- ${n}`);
  if (p.notes.length) out.push('');
  if (p.extra.doubleOwnTimeMs)
    out.push(`Model double's own time (direct calls, low load): \`${JSON.stringify(p.extra.doubleOwnTimeMs)}\``, '');
  if (p.steps.length) out.push(stepsTable(p.steps), '');
  const facade = p.extra.facade as
    | Array<{
        target: string;
        connections: number;
        overheadP50: number | null;
        overheadP99: number | null;
        result: LoadResult;
      }>
    | undefined;
  if (facade?.length) {
    out.push(
      '#### OpenAI facade vs direct vs Portkey (closed loop, same double profile 0 ms, same concurrency)',
      '',
      table(
        ['target', 'connections', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'overhead p50', 'overhead p99', 'errors'],
        facade.map((x) => [
          x.target,
          String(x.connections),
          f(x.result.throughputRps),
          ...lat(x.result.latencyMs),
          f(x.overheadP50),
          f(x.overheadP99),
          `${x.result.errors}${x.result.firstError ? ` (${x.result.firstError.slice(0, 80).replace(/\|/g, '/')})` : ''}`,
        ]),
      ),
      '',
    );
  }
  const gen = p.extra.generation as Record<string, unknown> | undefined;
  if (gen) {
    out.push(
      '#### Generating the audit rows',
      '',
      `${gen.rows} rows over ${gen.from} … ${gen.to}, through the hash-chain trigger: ${gen.seconds} s ` +
        `(${gen.rowsPerS} rows/s in ${gen.batchRows}-row transactions). One single INSERT … SELECT generate_series ` +
        `of ${gen.singleStatementRows} rows took ${gen.singleStatementS} s: within one statement each row's ` +
        '`SELECT … FOR UPDATE` of the one-row chain head walks every version of that row the statement already made, ' +
        'so one statement is quadratic in its row count (1M rows in one statement would take hours); short transactions ' +
        `keep the chain head's version list short. ANALYZE ${gen.analyzeS} s; table ${gen.tableMb} MB, indexes ${gen.indexMb} MB.`,
      '',
      `Actions: ${((gen.distribution ?? []) as Array<{ action: string; n: number }>).map((d) => `${d.action} ${d.n}`).join(', ')}`,
      '',
    );
  }
  const sql = p.extra.sqlBaseline as
    Array<{ query: string; n: number; latencyMs: LatencySummary; plan: string }> | undefined;
  if (sql?.length) {
    out.push(
      '#### Direct SQL baseline (one connection, sequential, 200 queries each)',
      '',
      table(
        ['query', 'p50 ms', 'p95 ms', 'p99 ms'],
        sql.map((s) => [s.query, ...lat(s.latencyMs)]),
      ),
      '',
    );
    for (const s of sql)
      out.push(`<details><summary>plan: ${s.query}</summary>\n\n\`\`\`\n${s.plan}\n\`\`\`\n</details>`, '');
  }
  const searches = p.extra.searches as
    Array<{ search: string; result: LoadResult; rssMb: Record<string, { peakRssMb: number }> }> | undefined;
  if (searches?.length) {
    out.push(
      '#### Compliance API searches through the gateway (staff token, role compliance; open loop, limit=50)',
      '',
      table(
        ['search', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'SUT RSS peak MB'],
        searches.map((s) => [
          s.search,
          f(s.result.throughputRps),
          ...lat(s.result.latencyMs),
          `${s.result.errors}${s.result.firstError ? ` (${s.result.firstError.slice(0, 60)})` : ''}`,
          f(s.rssMb.sut?.peakRssMb),
        ]),
      ),
      '',
    );
  }
  const exports = p.extra.exports as Array<Record<string, unknown>> | undefined;
  if (exports?.length) {
    out.push(
      '#### Export throughput',
      '',
      table(
        ['export', 'status', 'rows', 'MB', 's', 'rows/s', 'MB/s', 'first byte ms', 'SUT RSS peak MB'],
        exports.map((e) => [
          String(e.export),
          String(e.status),
          String(e.rows),
          String(e.mb),
          String(e.seconds),
          String(e.rowsPerS),
          String(e.mbPerS),
          String(e.firstByteMs),
          f((e.rssMb as Record<string, { peakRssMb: number }>).sut?.peakRssMb),
        ]),
      ),
      '',
    );
  }
  const mem = p.extra.memory as
    | {
        mode: string;
        minutes: number;
        flagMbPerMin: number;
        perApp: Record<string, SoakTrend>;
        heapSnapshots?: Record<'start' | 'end', Record<string, { file: string; mb: number }>> & { gapMinutes?: number };
      }
    | undefined;
  if (mem?.perApp) {
    out.push(
      `#### Memory over the soak (${mem.mode}, ${mem.minutes} min; RSS every 5 s; slopes by least squares after the first minute and over the second half; growth flagged when the second half's is above ${mem.flagMbPerMin} MB/min: a leak keeps growing, a plateau reached early is warm-up)`,
      '',
      table(
        ['process', 'first MB', 'last MB', 'max MB', 'slope MB/min', 'second half MB/min', 'growth'],
        Object.entries(mem.perApp).map(([app, t]) => [
          app,
          f(t.first),
          f(t.last),
          f(t.max),
          f(t.slopeMbPerMin, 2),
          f(t.lastHalfSlopeMbPerMin, 2),
          t.growing ? 'GROWS' : t.slopeMbPerMin > mem.flagMbPerMin ? 'plateau (rose, then flat)' : 'flat',
        ]),
      ),
      '',
    );
    const h = mem.heapSnapshots;
    if (h) {
      out.push(
        `Heap snapshots (taken because a slope was above the flag: after the soak / ${h.gapMinutes ?? '?'} min later at 50 hooks/s; compare them in Chrome DevTools, Memory, Comparison):`,
        '',
        ...Object.keys(h.end).map(
          (app) =>
            `- ${app}: ${f(h.start[app]?.mb)} MB \`${h.start[app]?.file ?? '–'}\` → ${f(h.end[app]?.mb)} MB \`${h.end[app]?.file ?? '–'}\``,
        ),
        '',
      );
    }
  }
  const o = p.extra.overload as Record<string, unknown> | undefined;
  if (o) out.push('#### Overload and recovery', '', '```json', JSON.stringify(o, null, 2), '```', '');
  return out.join('\n');
}
