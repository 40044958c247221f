/**
 * A real Kafka-protocol broker for tests: librdkafka's mock cluster
 * (librdkafka/rdkafka_mock.h) hosted by the tiny C program mock-broker.c,
 * compiled on first use into ./bin (gitignored).
 *
 * System requirements (Debian): librdkafka-dev, gcc, pkg-config — installed by
 * `.ci/install-system-deps.sh`. If any is missing, startMockKafka() throws; it
 * never skips.
 *
 *   const kafka = await startMockKafka({ brokers: 3, topics: [{ name: 't', partitions: 3 }] });
 *   new Kafka({ brokers: kafka.bootstrapServers, ... });
 *   await kafka.brokerDown(2); await kafka.brokerUp(2);
 *   await kafka.stop();
 *
 * Known behaviour of the mock (librdkafka 2.0.x) that tests must allow for:
 *  - kafkajs `admin.createTopics` fails against it: create topics here
 *    (`topics` option / `createTopic`) or rely on auto-creation (4 partitions).
 *  - Fetch requests with no data are answered only after the full
 *    `maxWaitTimeInMs`, so consumers need a small value: use
 *    `fastKafkaConsumerConfig`.
 *  - The first JoinGroup of a new (empty) group waits a fixed ~3 s
 *    (group.initial.rebalance.delay) before the leader is elected.
 *  - A later rebalance (member joins or leaves a stable group) waits
 *    `sessionTimeout - 1000` ms for members to (re)join.
 *  - `brokerDown` does not move partition leadership: partitions led by a down
 *    broker are unavailable until `brokerUp` (retrying producers recover then).
 */
import { spawn, execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import { Socket } from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface MockKafkaTopic {
  name: string;
  partitions: number;
}

export interface MockKafkaOptions {
  /** Number of brokers, ids 1..brokers (default 1). */
  brokers?: number;
  /** Topics created before start resolves; replication factor min(3, brokers). */
  topics?: MockKafkaTopic[];
}

export interface MockKafka {
  /** `host:port` of every broker, for kafkajs `brokers`. */
  bootstrapServers: string[];
  /** Disconnects broker `id` (1-based) and refuses new connections; leadership does not move. */
  brokerDown(id: number): Promise<void>;
  /** Lets broker `id` accept connections again. */
  brokerUp(id: number): Promise<void>;
  /** Creates a topic (replication factor min(3, brokers)); rejects if it exists. */
  createTopic(name: string, partitions: number): Promise<void>;
  /** Shuts the broker process down (SIGKILL if it has not exited within 2 s). Idempotent. */
  stop(): Promise<void>;
}

/**
 * kafkajs consumer settings needed against the mock; spread them into
 * `kafka.consumer({ groupId, ...fastKafkaConsumerConfig })`.
 *  - maxWaitTimeInMs: an idle Fetch is held for the full max wait (the mock does not answer early
 *    when data arrives), so the kafkajs default of 5000 ms adds up to 5 s latency per poll.
 *  - sessionTimeout: once a group is stable, every rebalance (a member joins or leaves) waits
 *    `sessionTimeout - 1000` ms for the members to rejoin: 29 s with the kafkajs default of 30000.
 *    It must stay above ~3500 ms, though: the first join of a new group is held for a fixed 3000 ms
 *    and the mock evicts a member whose session expires while it waits, leaving its JoinGroup
 *    unanswered (the consumer then hangs). 4000 gives a 3 s rebalance with a 1 s margin.
 *  - heartbeatInterval: how soon a running member learns that a rebalance started (and must stay
 *    well below sessionTimeout).
 *  - rebalanceTimeout: kafkajs derives its JoinGroup request timeout from it; the mock ignores it.
 */
export const fastKafkaConsumerConfig = {
  maxWaitTimeInMs: 20,
  sessionTimeout: 4000,
  heartbeatInterval: 100,
  rebalanceTimeout: 10000,
} as const;

const HERE = __dirname;
const SOURCE = path.join(HERE, 'mock-broker.c');
const BIN_DIR = path.join(HERE, 'bin');
const BINARY = path.join(BIN_DIR, 'mock-broker');

const START_TIMEOUT_MS = 10_000;
const COMMAND_TIMEOUT_MS = 5_000;
const STOP_GRACE_MS = 2_000;
const STDERR_TAIL_CHARS = 4_000;

const INSTALL_HINT =
  'Install the system dependencies with `sudo .ci/install-system-deps.sh` ' +
  '(Debian packages librdkafka-dev, gcc, pkg-config).';

function fail(message: string, cause?: unknown): Error {
  const detail = cause instanceof Error ? `: ${cause.message}` : cause ? `: ${String(cause)}` : '';
  return new Error(`mock Kafka broker: ${message}${detail}\n${INSTALL_HINT}`, { cause });
}

function mtimeMs(file: string): number | undefined {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function execOutput(err: unknown): string {
  if (err && typeof err === 'object') {
    const { stderr, stdout } = err as { stderr?: unknown; stdout?: unknown };
    const text = [stderr, stdout].filter((s) => typeof s === 'string' && s.trim()).join('\n');
    if (text) return `\n${text.trim()}`;
  }
  return '';
}

/**
 * Compiles mock-broker.c when the binary is missing or older than the source. Concurrent callers
 * (parallel jest workers) each compile to their own temp file and rename it over the binary,
 * which is atomic, so a reader never sees a half-written executable.
 */
async function ensureBinary(): Promise<string> {
  const srcTime = mtimeMs(SOURCE);
  if (srcTime === undefined) throw fail(`source file ${SOURCE} is missing`);
  const binTime = mtimeMs(BINARY);
  if (binTime !== undefined && binTime >= srcTime) return BINARY;

  let flags: string[];
  try {
    const { stdout } = await execFileAsync('pkg-config', ['--cflags', '--libs', 'rdkafka']);
    flags = stdout.trim().split(/\s+/).filter(Boolean);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(
      code === 'ENOENT'
        ? 'pkg-config is not installed'
        : `librdkafka development files not found (pkg-config rdkafka failed)${execOutput(err)}`,
    );
  }

  fs.mkdirSync(BIN_DIR, { recursive: true });
  const tmp = `${BINARY}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await execFileAsync('gcc', ['-O1', '-o', tmp, SOURCE, ...flags]);
    fs.renameSync(tmp, BINARY);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? 'gcc is not installed' : `compiling ${SOURCE} failed${execOutput(err)}`);
  }
  return BINARY;
}

function validateCount(what: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new Error(`mock Kafka broker: ${what} must be an integer in 1..${max}, got ${n}`);
  }
}

function validateTopicName(name: string): void {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(name)) {
    throw new Error(`mock Kafka broker: invalid topic name ${JSON.stringify(name)}`);
  }
}

interface Pending {
  command: string;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Unreferences a child's pipe so a forgotten stop() cannot keep the test process alive. */
function unrefPipe(stream: NodeJS.ReadableStream | NodeJS.WritableStream): void {
  if (stream instanceof Socket) stream.unref();
}

export async function startMockKafka(opts: MockKafkaOptions = {}): Promise<MockKafka> {
  const brokers = opts.brokers ?? 1;
  validateCount('brokers', brokers, 64);
  const topicArgs = (opts.topics ?? []).map((t) => {
    validateTopicName(t.name);
    validateCount(`partitions of ${t.name}`, t.partitions, 10_000);
    return `${t.name}:${t.partitions}`;
  });

  const binary = await ensureBinary();

  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(binary, ['-b', String(brokers), ...topicArgs], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    throw fail(`cannot start ${binary}`, err);
  }

  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  child.stdin.on('error', () => {
    /* EPIPE after the child died; reported through 'exit'. */
  });

  let exited = false;
  let exitDescription = '';
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitDescription = signal ? `signal ${signal}` : `exit code ${String(code)}`;
      resolve();
    });
  });

  const pending: Pending[] = [];
  const lines = createInterface({ input: child.stdout });

  const bootstrap = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      child.kill('SIGKILL');
      reject(fail(`${binary} printed no BOOTSTRAP line within ${START_TIMEOUT_MS} ms`, stderrTail));
    }, START_TIMEOUT_MS);
    const onLine = (line: string): void => {
      const m = /^BOOTSTRAP (\S+)$/.exec(line);
      cleanup();
      if (m?.[1]) {
        resolve(m[1].split(','));
      } else {
        child.kill('SIGKILL');
        reject(fail(`unexpected first line from ${binary}: ${JSON.stringify(line)}`, stderrTail));
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(fail(`cannot start ${binary}`, err));
    };
    const onExit = (): void => {
      cleanup();
      // Let the last stderr chunk arrive before reporting.
      setImmediate(() => reject(fail(`${binary} exited during startup (${exitDescription})`, stderrTail.trim())));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      lines.off('line', onLine);
      child.off('error', onError);
      child.off('exit', onExit);
    };
    lines.on('line', onLine);
    child.once('error', onError);
    child.once('exit', onExit);
  });

  lines.on('line', (line: string) => {
    const next = pending.shift();
    if (!next) return;
    clearTimeout(next.timer);
    if (line === 'OK') next.resolve();
    else next.reject(new Error(`mock Kafka broker: "${next.command}" failed: ${line.replace(/^ERR /, '')}`));
  });
  void exitPromise.then(() => {
    for (const p of pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(
        new Error(`mock Kafka broker: "${p.command}" failed: broker process ended (${exitDescription})\n${stderrTail}`),
      );
    }
  });

  unrefPipe(child.stdout);
  unrefPipe(child.stderr);
  unrefPipe(child.stdin);
  child.unref();

  let stopping: Promise<void> | undefined;
  const send = (command: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (exited || stopping || child.stdin.destroyed) {
        reject(new Error(`mock Kafka broker: "${command}" failed: broker process is not running`));
        return;
      }
      // Replies are matched to commands by order, so a lost reply leaves the broker unusable:
      // kill it, which also fails every other pending command.
      const timer = setTimeout(() => {
        const i = pending.findIndex((p) => p.timer === timer);
        if (i >= 0) pending.splice(i, 1);
        reject(new Error(`mock Kafka broker: "${command}" got no answer within ${COMMAND_TIMEOUT_MS} ms`));
        child.kill('SIGKILL');
      }, COMMAND_TIMEOUT_MS);
      pending.push({ command, resolve, reject, timer });
      child.stdin.write(`${command}\n`);
    });

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) {
        child.stdin.end('quit\n');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exitPromise;
        clearTimeout(timer);
      }
      lines.close();
    })();
    return stopping;
  };

  return {
    bootstrapServers: bootstrap,
    brokerDown: async (id) => {
      validateCount('broker id', id, brokers);
      await send(`down ${id}`);
    },
    brokerUp: async (id) => {
      validateCount('broker id', id, brokers);
      await send(`up ${id}`);
    },
    createTopic: async (name, partitions) => {
      validateTopicName(name);
      validateCount('partitions', partitions, 10_000);
      await send(`topic ${name} ${partitions}`);
    },
    stop,
  };
}
