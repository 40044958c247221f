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
}

export function summariseClient(c: EhrClient): EhrClientSummary {
  return {
    id: c.id,
    issuer: c.issuer,
    tenant: c.tenant,
    services: c.services,
    fhirBaseUrls: c.fhirBaseUrls,
    keySource: c.jwksUrl ? 'jwks-url' : c.jwks ? 'inline-jwks' : c.allowedJku.length > 0 ? 'jku-only' : 'none',
  };
}
