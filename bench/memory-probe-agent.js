/*
 * Preloaded into each app by bench/memory-probe.ts (NODE_OPTIONS=--require): appends one JSON line to
 * $MEMORY_PROBE_DIR/$MEMORY_PROBE_APP.jsonl every MEMORY_PROBE_EVERY_MS (default 5 s): process.memoryUsage(),
 * V8's heap spaces (used / committed MB per space: new, old, code, large object ...), the heap limit, and the
 * milliseconds spent in garbage collection so far (a PerformanceObserver on 'gc' entries, by kind).
 * Plain CommonJS with no dependencies, so it adds nothing measurable to the app it watches.
 */
'use strict';
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');
const { PerformanceObserver, constants } = require('node:perf_hooks');
const v8 = require('node:v8');

const dir = process.env.MEMORY_PROBE_DIR;
if (dir) {
  const file = join(dir, `${process.env.MEMORY_PROBE_APP || 'app'}.jsonl`);
  const gc = { ms: 0, minorMs: 0, majorMs: 0, count: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.ms += e.duration;
      gc.count += 1;
      const kind = e.detail && e.detail.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minorMs += e.duration;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.majorMs += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  const mb = (b) => Math.round(b / 104857.6) / 10;
  const sample = () => {
    const m = process.memoryUsage();
    const spaces = {};
    for (const s of v8.getHeapSpaceStatistics()) {
      spaces[s.space_name] = { used: mb(s.space_used_size), size: mb(s.space_size) };
    }
    const h = v8.getHeapStatistics();
    const line = {
      t: Date.now(),
      ...m,
      spaces,
      heapLimitMb: mb(h.heap_size_limit),
      mallocedMb: mb(h.malloced_memory),
      peakMallocedMb: mb(h.peak_malloced_memory),
      cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
      gc: { ...gc, ms: Math.round(gc.ms), minorMs: Math.round(gc.minorMs), majorMs: Math.round(gc.majorMs) },
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  };
  sample();
  setInterval(sample, Number(process.env.MEMORY_PROBE_EVERY_MS || 5000)).unref();
}
