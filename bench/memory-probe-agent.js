/*
 * Preloaded into each app by bench/memory-probe.ts (NODE_OPTIONS=--require): appends process.memoryUsage()
 * as one JSON line to $MEMORY_PROBE_DIR/$MEMORY_PROBE_APP.jsonl every MEMORY_PROBE_EVERY_MS (default 5 s).
 * Plain CommonJS with no dependencies, so it adds nothing measurable to the app it watches.
 */
'use strict';
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.MEMORY_PROBE_DIR;
if (dir) {
  const file = join(dir, `${process.env.MEMORY_PROBE_APP || 'app'}.jsonl`);
  const sample = () => {
    const m = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ t: Date.now(), ...m })}\n`);
  };
  sample();
  setInterval(sample, Number(process.env.MEMORY_PROBE_EVERY_MS || 5000)).unref();
}
