import { randomFillSync } from 'node:crypto';

/** W3C Trace Context `traceparent`: version-traceid-parentid-flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly flags: string;
}

export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  const m = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, flags: m[3]! };
}

export function formatTraceparent(t: TraceContext): string {
  return `00-${t.traceId}-${t.spanId}-${t.flags}`;
}

/**
 * Random ids from the system CSPRNG, drawn from a pool refilled 4 KB at a time (as randomUUID does) rather than one
 * random-bytes call per id: a hook makes several. Each pool byte is handed out once.
 */
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const hex = POOL.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

/** A new span in the caller's trace, or a new trace when the caller sent none (or a malformed one). */
export function childTraceparent(incoming: string | undefined): string {
  const parent = parseTraceparent(incoming);
  return formatTraceparent({
    traceId: parent?.traceId ?? randomHex(16),
    spanId: randomHex(8),
    flags: parent?.flags ?? '01',
  });
}
