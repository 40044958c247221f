/** Command-line options of `npm run bench` and the run-wide constants derived from them. */
const argv = process.argv.slice(2);
const flags = new Set(argv);

const valuesOf = (name: string): string[] =>
  argv
    .filter((a) => a.startsWith(`--${name}=`))
    .flatMap((a) => a.slice(name.length + 3).split(','))
    .filter(Boolean);

/** `--quick`: shorter steps and ladders (for trying the harness, not for numbers). */
export const QUICK = flags.has('--quick');
/** `--soak`: adds the ten-minute soak at 50 hooks/s (per-app RSS slope). */
export const SOAK = flags.has('--soak');
/** `--report-only`: re-render results.md and the plot from results.json. */
export const REPORT_ONLY = flags.has('--report-only');
/** `--only=a,b`: run only these parts (by name), e.g. a before/after pair of one part. */
export const ONLY = new Set(valuesOf('only'));
/** `--baseline=<git-ref>`: run the `--only` parts for that ref and this tree alternately (A/B/A/B). */
export const BASELINE = valuesOf('baseline')[0];

export const STEP_S = QUICK ? 4 : 10;
export const REALISTIC = { ttftMs: 300, perTokenMs: 10, tokens: 150 } as const;
export const ZERO = { ttftMs: 0, perTokenMs: 0 } as const;
export const AUDIT_ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? (QUICK ? 50_000 : 1_000_000));
export const FACADE_KEY = 'bench-facade-key';
/** A hook's answer budget as the EHR sees it: Da Vinci CRD's 5 s (cds-hooks' own HOOK_DEADLINE_MS is 4 s). */
export const HOOK_BUDGET_MS = Number(process.env.BENCH_HOOK_BUDGET_MS ?? 5000);
/** The sustained criterion of issue 17: 0 errors, ≥ 95 % of offered achieved, p99 ≤ 100 ms. */
export const SUSTAINED = { minAchieved: 0.95, maxP99Ms: 100 } as const;

/** Issue 17's sustained target (hooks/s, single process, model 0 ms) and how many more times it is tried after the ramp. */
export const TARGET_RPS = 200;
export const TARGET_TRIES = QUICK ? 0 : 2;

/** Open-loop ladders of offered hooks/s (model 0 ms, realistic model). */
export const ZERO_RATES = QUICK ? [10, 50, 100] : [10, 25, 50, 100, 150, 200, 250, 300, 400];
export const REAL_RATES = QUICK ? [10, 50] : [10, 25, 50, 100, 150];

export const log = (msg: string): void => {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
