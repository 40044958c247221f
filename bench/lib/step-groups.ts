/** The process groups a hook step's CPU time is attributed to (bench/lib/cpu-contention.ts), by pid. */
import type { GroupPids } from './cpu-contention';
import type { Double } from './double-control';
import { postgresGroups } from './pg-processes';
import type { Sut } from './sut-control';

/** Every group that is not the system under test (whose groups are `sut`, or one per app deployed). */
export const NON_SUT_GROUPS: readonly string[] = ['double', 'load', 'harness', 'postgres', 'pg-other'];

/**
 * `sut` (deployed: one group per app), `double`, `load`, `postgres`, `pg-other`, and `harness` (this process: the
 * benchmark's own bookkeeping, the 20 ms timeline's sampling when on); a process not running is left out.
 */
export async function stepGroups(
  sut: Sut,
  double: Double | undefined,
  loadPid: number | undefined,
): Promise<GroupPids> {
  const out: Record<string, number[]> = {};
  for (const [name, pid] of Object.entries(sut.pids)) if (pid) out[name] = [pid];
  if (double?.child.pid) out.double = [double.child.pid];
  if (loadPid) out.load = [loadPid];
  out.harness = [process.pid];
  return { ...out, ...(await postgresGroups(sut.database)) };
}
