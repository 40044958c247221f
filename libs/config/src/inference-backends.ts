export type BackendKind = 'vllm' | 'tgi';

export interface BackendTarget {
  /** Stable name used in logs, metrics labels and result rows: `kind@host:port` (`kind@dns+name:port` for a source). */
  readonly id: string;
  readonly kind: BackendKind;
  /** OpenAI-compatible base URL, ending in /v1. */
  readonly baseUrl: string;
  /**
   * `dns`: the URL's host is a name standing for a set of engines (a Kubernetes headless Service), re-resolved
   * periodically; each address it resolves to is one engine at the URL's port and path. Absent: one engine.
   */
  readonly discovery?: 'dns';
}

export type BackendParse = { ok: true; backends: BackendTarget[] } | { ok: false; error: string };

const DNS_PREFIX = 'dns+';

/**
 * Parses `INFERENCE_BACKENDS`: comma-separated `kind=baseUrl`, e.g. `vllm=http://10.0.0.5:8000/v1,tgi=http://tgi:80/v1`.
 * `kind=dns+http://name:port/v1` asks for per-engine discovery: every address `name` resolves to is one engine.
 */
export function parseBackends(raw: string): BackendParse {
  const backends: BackendTarget[] = [];
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq < 0) return { ok: false, error: `"${entry}" is not kind=baseUrl` };
    const kind = entry.slice(0, eq).trim();
    let url = entry.slice(eq + 1).trim();
    if (kind !== 'vllm' && kind !== 'tgi') {
      return { ok: false, error: `kind "${kind}" is not one of vllm, tgi` };
    }
    const discovered = url.startsWith(DNS_PREFIX);
    if (discovered) url = url.slice(DNS_PREFIX.length);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { ok: false, error: `"${url}" is not a URL` };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return { ok: false, error: `"${url}" must be http(s)` };
    }
    // URL drops a port that is the scheme's default; discovery needs it said.
    const port = /^[a-z]+:\/\/[^/?#@]*:(\d+)(?:[/?#]|$)/i.exec(url)?.[1];
    if (discovered) {
      const refused = refuseDiscovery(parsed, port);
      if (refused) return { ok: false, error: `"${entry}": ${refused}` };
    }
    const baseUrl = url.replace(/\/+$/, '');
    const id = discovered ? `${kind}@${DNS_PREFIX}${parsed.hostname}:${port}` : `${kind}@${parsed.host}`;
    if (backends.some((b) => b.id === id)) return { ok: false, error: `backend ${id} is listed twice` };
    backends.push(discovered ? { id, kind, baseUrl, discovery: 'dns' } : { id, kind, baseUrl });
  }
  if (backends.length === 0) return { ok: false, error: 'lists no backend' };
  return { ok: true, backends };
}

/** Why a `dns+` URL cannot name a set of engines, or null when it can. */
function refuseDiscovery(url: URL, port: string | undefined): string | null {
  // A certificate names the Service, not each pod address; engines inside the cluster speak plain HTTP.
  if (url.protocol !== 'http:') return 'dns+ discovery takes http:// only (engines are addressed by pod IP)';
  // The port is part of every engine's address; a default one would hide which port the engines listen on.
  if (port === undefined) return 'dns+ discovery needs an explicit port (e.g. dns+http://engines:8000/v1)';
  if (/^[\d.]+$/.test(url.hostname) || url.hostname.startsWith('['))
    return 'dns+ discovery needs a DNS name, not an address';
  return null;
}

/** `http://[fd00::1]:8000/v1` from a source URL and one address it resolved to. */
export function engineUrl(sourceBaseUrl: string, address: string): string {
  const url = new URL(sourceBaseUrl);
  url.hostname = address.includes(':') ? `[${address}]` : address;
  return url.toString().replace(/\/+$/, '');
}
