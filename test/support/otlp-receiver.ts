/**
 * A collector-compatible OTLP/HTTP traces receiver for tests: `POST /v1/traces` with the JSON encoding
 * (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`, gzip or not), answered like a collector (200, empty partial success).
 * Spans are kept flattened: ids in hex, the resource's `service.name`, the instrumentation scope, attributes and
 * events as plain values.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';

type AnyValue = {
  stringValue?: string | undefined;
  boolValue?: boolean | undefined;
  intValue?: string | number | undefined;
  doubleValue?: number | undefined;
  arrayValue?: { values?: AnyValue[] | undefined } | undefined;
  kvlistValue?: { values?: Array<{ key: string; value?: AnyValue | undefined }> | undefined } | undefined;
  bytesValue?: string | undefined;
};

const anyValue: z.ZodType<AnyValue> = z.lazy(() =>
  z.looseObject({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: z.union([z.string(), z.number()]).optional(),
    doubleValue: z.number().optional(),
    arrayValue: z.looseObject({ values: z.array(anyValue).optional() }).optional(),
    kvlistValue: z
      .looseObject({ values: z.array(z.looseObject({ key: z.string(), value: anyValue.optional() })).optional() })
      .optional(),
    bytesValue: z.string().optional(),
  }),
);
const keyValues = z.array(z.looseObject({ key: z.string(), value: anyValue.optional() })).default([]);
const span = z.looseObject({
  traceId: z.string(),
  spanId: z.string(),
  parentSpanId: z.string().optional(),
  name: z.string(),
  kind: z.number().int().optional(),
  attributes: keyValues,
  events: z.array(z.looseObject({ name: z.string(), attributes: keyValues })).default([]),
  status: z.looseObject({ code: z.number().int().optional() }).optional(),
});
const exportRequest = z.looseObject({
  resourceSpans: z
    .array(
      z.looseObject({
        resource: z.looseObject({ attributes: keyValues }).optional(),
        scopeSpans: z
          .array(
            z.looseObject({ scope: z.looseObject({ name: z.string() }).optional(), spans: z.array(span).default([]) }),
          )
          .default([]),
      }),
    )
    .default([]),
});

export type AttributeValue = string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue } | null;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly service: string;
  readonly scope: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly events: ReadonlyArray<{ name: string; attributes: Readonly<Record<string, AttributeValue>> }>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
}

export const SpanKinds = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

function plain(v: AnyValue | undefined): AttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(plain);
  if (v.kvlistValue) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, plain(kv.value)]));
  return v.bytesValue ?? null;
}

function record(kvs: ReadonlyArray<{ key: string; value?: AnyValue | undefined }>): Record<string, AttributeValue> {
  return Object.fromEntries(kvs.map((kv) => [kv.key, plain(kv.value)]));
}

/** Ids in OTLP/JSON are hex; some encoders send base64 (the protobuf JSON mapping). Both end up hex here. */
function hexId(id: string | undefined, bytes: number): string {
  if (!id) return '';
  if (new RegExp(`^[0-9a-f]{${bytes * 2}}$`, 'i').test(id)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

export class OtlpReceiver {
  private readonly received: ReceivedSpan[] = [];
  private server: Server | undefined;
  /** The endpoint for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  endpoint = '';
  /** Requests that were not a decodable OTLP/JSON traces export. */
  rejected = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        try {
          const raw = Buffer.concat(chunks);
          const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
          this.accept(exportRequest.parse(JSON.parse(body.toString('utf8'))));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          this.rejected += 1;
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  spans(): ReadonlyArray<ReceivedSpan> {
    return [...this.received];
  }

  /** Polls until `done` holds for the spans received (the exporters batch), or fails naming what it saw. */
  async waitFor(done: (spans: ReadonlyArray<ReceivedSpan>) => boolean, what: string, timeoutMs = 30_000) {
    const end = Date.now() + timeoutMs;
    while (!done(this.received)) {
      if (Date.now() > end) {
        const names = [...new Set(this.received.map((s) => `${s.service}:${s.name}`))].join(', ');
        throw new Error(`OTLP receiver: no ${what} within ${timeoutMs} ms; spans seen: ${names}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.spans();
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(body: z.infer<typeof exportRequest>): void {
    for (const rs of body.resourceSpans) {
      const resource = record(rs.resource?.attributes ?? []);
      const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : '';
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          this.received.push({
            traceId: hexId(s.traceId, 16),
            spanId: hexId(s.spanId, 8),
            parentSpanId: hexId(s.parentSpanId, 8),
            name: s.name,
            kind: s.kind ?? 0,
            service,
            scope: ss.scope?.name ?? '',
            attributes: record(s.attributes),
            events: s.events.map((e) => ({ name: e.name, attributes: record(e.attributes) })),
            statusCode: s.status?.code ?? 0,
          });
        }
      }
    }
  }
}
