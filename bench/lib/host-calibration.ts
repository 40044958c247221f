/**
 * How fast this host is, measured the same way on every run: the model double answering closed-loop at c=16 for
 * 5 s, straight from the load generator (no system under test in between), before any part runs. The machines of
 * this workplace differ several-fold (the same commit's 50 hooks/s p99 was 14.6 ms on one and 130–180 ms on
 * another), so results are comparable only between runs whose calibration is alike; the hypervisor's share
 * (steal) over the same seconds says whether the host was also lending this VM's cores out.
 */
import { cpuShares, readCpuTimes } from '@app/testing/proc-sched';
import { DIRECT_CHAT_BODY, doubleControl, startDouble } from './double-control';
import { ZERO } from './options';
import { stopChild } from './procs';
import type { LoadGenerator } from './procs';

export interface HostCalibration {
  /** Chat completions per second the double answered at c=16. */
  readonly directDoubleReqS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Steal over the calibration as % of all cores' time (/proc/stat), null where unreadable. */
  readonly stealPct: number | null;
}

/** Seconds of the calibration's closed loop. */
const CALIBRATION_S = 5;

export async function calibrateHost(load: LoadGenerator): Promise<HostCalibration> {
  const double = await startDouble();
  try {
    await doubleControl(double, 'latency', ZERO);
    const before = readCpuTimes();
    const r = await load.run({
      name: 'host calibration: model double direct c=16',
      origin: double.url,
      paths: ['/v1/chat/completions'],
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      auth: { kind: 'none' },
      body: { kind: 'static', text: DIRECT_CHAT_BODY },
      mode: 'closed',
      connections: 16,
      durationS: CALIBRATION_S,
      timeoutMs: 10_000,
    });
    const after = readCpuTimes();
    const stealPct = before && after ? cpuShares(before, after).stealPct : null;
    return { directDoubleReqS: r.throughputRps, p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99, stealPct };
  } finally {
    await stopChild(double.child);
  }
}
