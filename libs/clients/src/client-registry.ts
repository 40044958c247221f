import { readFileSync } from 'node:fs';
import { fhirBaseProblem } from '@app/fhir/client/fhir-url';
import { ehrClientRegistrySchema, type EhrClient } from './ehr-client';

/** Normalises a FHIR base URL for comparison: WHATWG URL parsing (lower-case scheme and host, dot segments resolved), no trailing slash. */
export function normaliseBaseUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

export class ClientRegistry {
  private readonly byId: ReadonlyMap<string, EhrClient>;

  constructor(readonly clients: ReadonlyArray<EhrClient>) {
    this.byId = new Map(clients.map((c) => [c.id, c]));
    // One issuer, one client: otherwise a token could be checked against the wrong client's keys.
    const issuers = new Set(clients.map((c) => c.issuer));
    if (this.byId.size !== clients.length) throw new Error('EHR client registry: duplicate client id');
    if (issuers.size !== clients.length) throw new Error('EHR client registry: two clients share an issuer');
  }

  static fromJson(raw: unknown): ClientRegistry {
    return new ClientRegistry(ehrClientRegistrySchema.parse(raw).clients);
  }

  static fromFile(path: string): ClientRegistry {
    return ClientRegistry.fromJson(JSON.parse(readFileSync(path, 'utf8')));
  }

  get(id: string): EhrClient | undefined {
    return this.byId.get(id);
  }

  byIssuer(issuer: string): EhrClient | undefined {
    return this.clients.find((c) => c.issuer === issuer);
  }

  /** Whether cds-hooks may call `fhirServer` on behalf of this client (SSRF guard). */
  allowsFhirServer(clientId: string, fhirServer: string): boolean {
    const client = this.byId.get(clientId);
    if (!client) return false;
    // User info, odd schemes, queries: never a match, whatever the URL parser would make of them.
    if (fhirBaseProblem(fhirServer)) return false;
    let wanted: string;
    try {
      wanted = normaliseBaseUrl(fhirServer);
    } catch {
      return false;
    }
    return client.fhirBaseUrls.some((u) => normaliseBaseUrl(u) === wanted);
  }

  allowsService(clientId: string, serviceId: string): boolean {
    const services = this.byId.get(clientId)?.services ?? [];
    return services.includes('*') || services.includes(serviceId);
  }
}
