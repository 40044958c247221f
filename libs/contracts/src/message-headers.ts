/** Headers every inference request carries, on Kafka and on the in-process transport alike. */
export const MessageHeader = {
  correlationId: 'x-correlation-id',
  deadline: 'x-deadline-ms',
  schema: 'x-schema',
  traceparent: 'traceparent',
} as const;

export interface MessageHeaders {
  readonly correlationId: string;
  /** Epoch milliseconds after which the answer is useless to the EHR. */
  readonly deadlineMs: number;
  readonly schema: string;
  readonly traceparent?: string;
}

export function toWireHeaders(h: MessageHeaders): Record<string, string> {
  const out: Record<string, string> = {
    [MessageHeader.correlationId]: h.correlationId,
    [MessageHeader.deadline]: String(h.deadlineMs),
    [MessageHeader.schema]: h.schema,
  };
  if (h.traceparent) out[MessageHeader.traceparent] = h.traceparent;
  return out;
}

export type HeaderParse = { ok: true; headers: MessageHeaders } | { ok: false; reason: string };

export function fromWireHeaders(raw: Readonly<Record<string, string | Buffer | undefined>>): HeaderParse {
  const text = (name: string): string | undefined => {
    const v = raw[name];
    return v === undefined ? undefined : v.toString();
  };
  const correlationId = text(MessageHeader.correlationId);
  const deadline = Number(text(MessageHeader.deadline));
  const schema = text(MessageHeader.schema);
  if (!correlationId) return { ok: false, reason: `missing header ${MessageHeader.correlationId}` };
  if (!Number.isFinite(deadline) || deadline <= 0) return { ok: false, reason: `bad header ${MessageHeader.deadline}` };
  if (!schema) return { ok: false, reason: `missing header ${MessageHeader.schema}` };
  const traceparent = text(MessageHeader.traceparent);
  return {
    ok: true,
    headers: { correlationId, deadlineMs: deadline, schema, ...(traceparent ? { traceparent } : {}) },
  };
}
