export type BackendKind = 'vllm' | 'tgi';

export interface BackendTarget {
  /** Stable name used in logs, metrics labels and result rows: `kind@host:port`. */
  readonly id: string;
  readonly kind: BackendKind;
  /** OpenAI-compatible base URL, ending in /v1. */
  readonly baseUrl: string;
}

export type BackendParse = { ok: true; backends: BackendTarget[] } | { ok: false; error: string };

/** Parses `INFERENCE_BACKENDS`: comma-separated `kind=baseUrl`, e.g. `vllm=http://10.0.0.5:8000/v1,tgi=http://tgi:80/v1`. */
export function parseBackends(raw: string): BackendParse {
  const backends: BackendTarget[] = [];
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq < 0) return { ok: false, error: `"${entry}" is not kind=baseUrl` };
    const kind = entry.slice(0, eq).trim();
    const url = entry.slice(eq + 1).trim();
    if (kind !== 'vllm' && kind !== 'tgi') {
      return { ok: false, error: `kind "${kind}" is not one of vllm, tgi` };
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { ok: false, error: `"${url}" is not a URL` };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return { ok: false, error: `"${url}" must be http(s)` };
    }
    const baseUrl = url.replace(/\/+$/, '');
    const id = `${kind}@${parsed.host}`;
    if (backends.some((b) => b.id === id)) return { ok: false, error: `backend ${id} is listed twice` };
    backends.push({ id, kind, baseUrl });
  }
  if (backends.length === 0) return { ok: false, error: 'lists no backend' };
  return { ok: true, backends };
}
