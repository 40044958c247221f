/** Helpers for the double's own specs (plain fetch; no jest globals so the build can include it). */

export interface JsonReply {
  status: number;
  headers: Headers;
  json: unknown;
}

export async function getJson(url: string): Promise<JsonReply> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, json: await res.json() };
}

export async function postJson(url: string, body: unknown, method = 'POST'): Promise<JsonReply> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === '' ? null : (JSON.parse(text) as unknown) };
}

/** Reads an SSE body to its end; returns the `data:` payloads in order (including "[DONE]"). */
export async function readSse(res: Response): Promise<string[]> {
  const text = await res.text();
  return parseSse(text);
}

export function parseSse(text: string): string[] {
  return text
    .split('\n\n')
    .filter((event) => event.trim() !== '')
    .map((event) => {
      if (!event.startsWith('data: ')) throw new Error(`not an SSE data event: ${JSON.stringify(event)}`);
      return event.slice('data: '.length);
    });
}

/** Narrow an unknown JSON value to a record for property access in assertions. */
export function obj(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`expected an object, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

export function arr(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new Error(`expected an array, got ${JSON.stringify(value)}`);
  return value;
}

/** Reads one Prometheus sample value by its full series text, e.g. 'tgi_queue_size'. */
export function metricValue(metricsText: string, series: string): number {
  const line = metricsText.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series} in:\n${metricsText}`);
  return Number(line.slice(series.length + 1));
}

export async function metrics(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  return res.text();
}

/** Polls until check() is true (for gauges that change while a request is in flight). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('condition not met in time');
}
