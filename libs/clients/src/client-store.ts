import type { EhrClient } from './ehr-client';

/** Where registered EHR clients are kept: the JSON file (`EHR_CLIENTS_FILE`) or the `ehr_clients` table. */
export interface ClientStore {
  list(): Promise<EhrClient[]>;
  /** Adds the client, or replaces the one with the same id. */
  upsert(client: EhrClient): Promise<void>;
  /** Whether a client with that id was there. */
  remove(id: string): Promise<boolean>;
}

/** A client as shown to staff and operators: no keys. */
export interface EhrClientSummary {
  readonly id: string;
  readonly issuer: string;
  readonly tenant: string;
  readonly services: ReadonlyArray<string>;
  readonly fhirBaseUrls: ReadonlyArray<string>;
  readonly keySource: 'jwks-url' | 'inline-jwks' | 'jku-only' | 'none';
  /** Where its keys are published, when by URL. */
  readonly jwksUrl: string | null;
  /** The `kid`s of its inline keys (public key ids only). */
  readonly kids: ReadonlyArray<string>;
  readonly allowedJku: ReadonlyArray<string>;
  /** Its own rate limit; null when the gateway's default applies. */
  readonly rateLimit: { readonly perSecond: number; readonly burst: number } | null;
}

export function summariseClient(c: EhrClient): EhrClientSummary {
  return {
    id: c.id,
    issuer: c.issuer,
    tenant: c.tenant,
    services: c.services,
    fhirBaseUrls: c.fhirBaseUrls,
    keySource: c.jwksUrl ? 'jwks-url' : c.jwks ? 'inline-jwks' : c.allowedJku.length > 0 ? 'jku-only' : 'none',
    jwksUrl: c.jwksUrl ?? null,
    kids: (c.jwks?.keys ?? []).flatMap((k) => (typeof k['kid'] === 'string' ? [k['kid']] : [])),
    allowedJku: c.allowedJku,
    rateLimit: c.rateLimit ?? null,
  };
}
