import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

export interface JwksCacheOptions {
  /** How long a fetched key set is trusted before it is fetched again. */
  readonly cacheMaxAgeMs: number;
  /** Shortest time between two fetches of one URL, also when a token names an unknown kid (rotation). */
  readonly cooldownMs: number;
  readonly timeoutMs: number;
  /** Most key set URLs kept; the least recently used is dropped first. */
  readonly maxEntries: number;
}

/**
 * Key sets by URL (jwksUrl or an allow-listed jku) and inline sets by client. A remote set is fetched on first
 * use, kept for `cacheMaxAgeMs`, and fetched again when a token names a kid it lacks (once per `cooldownMs`), so a
 * key rotated in at the URL is picked up without a restart while a flood of unknown kids cannot hammer the EHR.
 */
export class JwksCache {
  private readonly remote = new Map<string, JWTVerifyGetKey>();
  private readonly local = new Map<
    string,
    { readonly source: object; readonly json: string; readonly getKey: JWTVerifyGetKey }
  >();

  constructor(private readonly opts: JwksCacheOptions) {}

  remoteSet(url: string): JWTVerifyGetKey {
    const hit = this.remote.get(url);
    if (hit) {
      this.remote.delete(url);
      this.remote.set(url, hit);
      return hit;
    }
    const getKey = createRemoteJWKSet(new URL(url), {
      cacheMaxAge: this.opts.cacheMaxAgeMs,
      cooldownDuration: this.opts.cooldownMs,
      timeoutDuration: this.opts.timeoutMs,
    });
    this.remote.set(url, getKey);
    this.evict(this.remote);
    return getKey;
  }

  /**
   * An inline key set (from the registry); rebuilt when the registry entry changes. The registry's entries are
   * read-only and replaced whole on a reload, so the same object is the same set (no serialization per call); a new
   * object with the same keys keeps the imported set.
   */
  localSet(ownerId: string, jwks: { readonly keys: ReadonlyArray<Record<string, unknown>> }): JWTVerifyGetKey {
    const hit = this.local.get(ownerId);
    if (hit && hit.source === jwks) return hit.getKey;
    const json = JSON.stringify(jwks);
    if (hit && hit.json === json) {
      this.local.set(ownerId, { source: jwks, json, getKey: hit.getKey });
      return hit.getKey;
    }
    // jose checks every member of each key when it imports it; the registry schema only promises objects.
    const getKey = createLocalJWKSet(JSON.parse(json) as JSONWebKeySet);
    this.local.set(ownerId, { source: jwks, json, getKey });
    this.evict(this.local);
    return getKey;
  }

  private evict<V>(map: Map<string, V>): void {
    while (map.size > this.opts.maxEntries) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) return;
      map.delete(oldest);
    }
  }
}
