import { NORMAL_TTFT_MS, type ReliabilityStack } from '../support/stack';
import { markDouble, tally, type ScenarioCounts } from '../support/ledger';
import { driveTraffic, sleep, until } from '../support/traffic';

/** Model latency while the proxy is killed: long enough that the calls it has out are cut, not finished. */
const STUCK_TTFT_MS = 30_000;

/** 2. The inference proxy is SIGKILLed with inferences in flight, and restarted. */
export async function proxyCrash(stack: ReliabilityStack): Promise<ScenarioCounts> {
  const target = stack.cds[0]!.url;
  const mark = markDouble(stack.double);
  const startedAt = Date.now();
  let abandoned = 0;
  let inFlightAtKill = 0;
  let exit = '';
  const crash = async (): Promise<void> => {
    const switchedAt = Date.now();
    stack.double.setLatency({ ttftMs: STUCK_TTFT_MS, perTokenMs: 0 });
    // Calls that started before the switch finish (150 ms); the ones after it hang until the kill cuts them.
    await sleep(1_000);
    await until('an inference in flight', async () => (stack.double.stats().inFlight > 0 ? true : undefined), 5_000);
    inFlightAtKill = stack.double.stats().inFlight;
    const info = await stack.proxy.kill();
    exit = info.signal ?? String(info.code);
    const killedAt = Date.now();
    abandoned = stack.double
      .requests()
      .filter((r) => r.path === '/v1/completions' && r.receivedAt >= switchedAt && r.receivedAt <= killedAt).length;
    stack.double.setLatency({ ttftMs: NORMAL_TTFT_MS, perTokenMs: 0 });
    await stack.startProxy();
  };
  const calls = await driveTraffic({
    count: 40,
    intervalMs: 200,
    target: () => target,
    events: [{ atMs: 1_500, run: crash }],
  });
  return tally({
    scenario: '2 proxy SIGKILL and restart',
    dbUrl: stack.db.url,
    double: stack.double,
    mark,
    calls,
    startedAt,
    abandoned,
    notes: [`proxy exited by ${exit} with ${inFlightAtKill} model calls in flight (${abandoned} cut off, run again)`],
  });
}
