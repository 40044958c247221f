import {
  busyTicks,
  cpuShares,
  parseCpuLine,
  parsePressureSome,
  parseSchedstat,
  readProcessSched,
  readThreadKind,
  schedDelta,
  threadKind,
  type Sched,
} from './proc-sched';

const PROC_STAT = [
  'cpu  1000 10 400 8000 200 0 90 300 50 0',
  'cpu0 500 5 200 4000 100 0 45 150 25 0',
  'intr 12345 0 0',
  'ctxt 99999',
].join('\n');

describe('parseCpuLine (/proc/stat)', () => {
  it("reads the aggregate cpu line's first eight fields, not a per-core line", () => {
    expect(parseCpuLine(PROC_STAT)).toEqual({
      user: 1000,
      nice: 10,
      system: 400,
      idle: 8000,
      iowait: 200,
      irq: 0,
      softirq: 90,
      steal: 300,
    });
  });

  it('is null without a cpu line or with too few fields', () => {
    expect(parseCpuLine('cpu0 1 2 3\nintr 1')).toBeNull();
    expect(parseCpuLine('cpu  1 2 3 4')).toBeNull();
  });
});

describe('cpuShares', () => {
  it('gives busy (without steal), steal and iowait as % of all the time that passed', () => {
    const a = parseCpuLine(PROC_STAT)!;
    // +100 ticks in all: 30 user, 10 system, 40 idle, 5 iowait, 5 softirq, 10 steal; guest (+20) is inside user.
    const b = parseCpuLine('cpu  1030 10 410 8040 205 0 95 310 70 0')!;
    expect(cpuShares(a, b)).toEqual({ busyPct: 45, stealPct: 10, iowaitPct: 5 });
    expect(busyTicks(a, b)).toBe(45);
  });

  it('is all 0 when no time passed', () => {
    const a = parseCpuLine(PROC_STAT)!;
    expect(cpuShares(a, a)).toEqual({ busyPct: 0, stealPct: 0, iowaitPct: 0 });
  });
});

describe('parseSchedstat', () => {
  it('reads on-CPU and run-queue wait ns', () => {
    expect(parseSchedstat('270652829 253957667 3244\n')).toEqual({ onCpuNs: 270652829, waitNs: 253957667 });
  });

  it('is null for malformed text', () => {
    expect(parseSchedstat('')).toBeNull();
    expect(parseSchedstat('12')).toBeNull();
  });
});

describe('parsePressureSome (/proc/pressure)', () => {
  it("reads the some line's total in µs, not the full line's", () => {
    const text =
      'some avg10=0.36 avg60=6.86 avg300=13.00 total=95273858\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n';
    expect(parsePressureSome(text)).toBe(95273858);
  });

  it('is null without a some line', () => {
    expect(parsePressureSome('full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n')).toBeNull();
  });
});

describe('schedDelta', () => {
  const s = (onCpuNs: number, waitNs: number): Sched => ({ onCpuNs, waitNs });

  it('sums the growth of threads present at both ends', () => {
    const d = schedDelta(
      new Map([
        ['1/1', s(100, 10)],
        ['1/2', s(50, 5)],
      ]),
      new Map([
        ['1/1', s(300, 40)],
        ['1/2', s(60, 5)],
      ]),
    );
    expect(d).toEqual({ onCpuNs: 210, waitNs: 30, appeared: 0, vanished: 0 });
  });

  it('counts a thread that appeared from 0 and loses one that vanished', () => {
    const d = schedDelta(
      new Map([
        ['1/1', s(100, 10)],
        ['1/2', s(999, 999)],
      ]),
      new Map([
        ['1/1', s(150, 20)],
        ['1/3', s(40, 7)],
      ]),
    );
    expect(d).toEqual({ onCpuNs: 90, waitNs: 17, appeared: 1, vanished: 1 });
  });

  it('treats a thread whose counters went down (a reused id) as new, never negative', () => {
    const d = schedDelta(new Map([['1/1', s(1000, 100)]]), new Map([['1/1', s(30, 4)]]));
    expect(d).toEqual({ onCpuNs: 30, waitNs: 4, appeared: 1, vanished: 0 });
  });
});

describe('readProcessSched (real /proc)', () => {
  it("sees this process's own on-CPU time rise over a busy loop", () => {
    const main = `${process.pid}/${process.pid}`;
    const before = readProcessSched(process.pid);
    expect(before.has(main)).toBe(true);
    // Spin until the process has used 100 ms of CPU by another account (getrusage), whatever the host's speed.
    const cpu0 = process.cpuUsage();
    let x = 0;
    while (process.cpuUsage(cpu0).user < 100_000) for (let i = 0; i < 1e5; i++) x += i;
    expect(x).toBeGreaterThan(0);
    const after = readProcessSched(process.pid);
    // The loop ran on the main thread: most of those 100 ms show there (schedstat counts ns).
    expect(after.get(main)!.onCpuNs - before.get(main)!.onCpuNs).toBeGreaterThan(80e6);
    expect(schedDelta(before, after).onCpuNs).toBeGreaterThan(80e6);
  });

  it('is empty for a process that does not exist', () => {
    expect(readProcessSched(2 ** 22 + 1).size).toBe(0);
  });
});

describe('threadKind', () => {
  it("names Node's JavaScript thread, V8's workers and the libuv pool from their thread names", () => {
    expect(threadKind('MainThread\n')).toBe('main');
    expect(threadKind('V8Worker')).toBe('v8');
    expect(threadKind('DelayedTaskSche')).toBe('v8');
    expect(threadKind('libuv-worker')).toBe('libuv');
    expect(threadKind('postgres')).toBe('other');
  });

  it("reads this process's own main thread as main (real /proc), and a gone thread as other", () => {
    expect(readThreadKind(`${process.pid}/${process.pid}`)).toBe('main');
    expect(readThreadKind(`${2 ** 22 + 1}/${2 ** 22 + 1}`)).toBe('other');
  });
});
