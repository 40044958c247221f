import type { Bundle, BundleEntry, FhirResource } from 'fhir/r4';
import type { Client } from 'fhir-kit-client' with { 'resolution-mode': 'import' };
import { inSpan, SpanKind } from '@app/observability';
import { FhirFetchError, toFhirFetchError } from './fhir-fetch-error';
import { createFhirKitClient } from './fhir-kit-loader';
import {
  describeFhirRequest,
  isUnderBase,
  normaliseFhirBase,
  type FhirInteraction,
  type FhirRequestShape,
} from './fhir-url';

export interface FhirFetcherOptions {
  readonly baseUrl: string;
  /** Sent only as `Authorization: Bearer ...`; never stored beyond this object, never in errors. */
  readonly accessToken?: string;
  /** Upper bound on each HTTP call (every page of a search gets its own). */
  readonly timeoutMs: number;
  /** Most pages one search may take, the first included. */
  readonly maxPages: number;
  /** Most entries one search may return over all its pages. */
  readonly maxEntries: number;
}

export interface FhirFetchResult {
  readonly interaction: FhirInteraction;
  readonly resourceType: string;
  /** The resource for a read; one searchset Bundle with the entries of every page for a search. */
  readonly resource: FhirResource;
  readonly pages: number;
}

/**
 * Reads and searches on one FHIR server through fhir-kit-client.
 *
 * Searches follow `next` links and merge the pages, because CDS Hooks prefetch values are single Bundles.
 * Exceeding `maxPages` or `maxEntries` fails the search rather than returning a silently shortened list: an
 * incomplete medication or allergy list presented as complete is worse for decision support than "unavailable".
 * A template with `_count` asked for a bounded answer (CDS Hooks: "`_count` to limit the number of results"),
 * so its first page is the answer and no `next` link is followed.
 */
export class FhirFetcher {
  private readonly base: string;
  private client: Promise<Client> | undefined;

  constructor(private readonly options: FhirFetcherOptions) {
    this.base = normaliseFhirBase(options.baseUrl);
    if (options.maxPages < 1 || options.maxEntries < 1 || options.timeoutMs < 1) {
      throw new Error('FhirFetcher: timeoutMs, maxPages and maxEntries must be positive');
    }
  }

  async fetch(relativeUrl: string): Promise<FhirFetchResult> {
    const shape = describeFhirRequest(relativeUrl);
    if (!shape) throw new FhirFetchError('invalid_url');
    // An HTTP client span without the URL: a read's path and a search's query name the patient. The resource
    // type and interaction say what was asked; the server is the EHR's FHIR base host.
    const server = new URL(this.base);
    const attributes = {
      'http.request.method': 'GET',
      'server.address': server.hostname,
      ...(server.port ? { 'server.port': Number(server.port) } : {}),
      'fhir.interaction': shape.interaction,
      'fhir.resource_type': shape.resourceType,
    };
    return inSpan('meditron-fhir', `GET ${shape.resourceType}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const result = await this.fetchShaped(relativeUrl, shape);
      span.setAttribute('fhir.pages', result.pages);
      return result;
    });
  }

  private async fetchShaped(relativeUrl: string, shape: FhirRequestShape): Promise<FhirFetchResult> {
    const first = await this.get(relativeUrl.replace(/^\//, ''));
    if (shape.interaction === 'read') {
      if (first.resourceType !== shape.resourceType) throw new FhirFetchError('bad_response');
      return { ...shape, resource: first, pages: 1 };
    }
    const bounded = new URLSearchParams(relativeUrl.split('?')[1] ?? '').has('_count');
    const { bundle, pages } = await this.collectPages(asSearchset(first), bounded);
    return { ...shape, resource: bundle, pages };
  }

  private async collectPages(first: Bundle, bounded: boolean): Promise<{ bundle: Bundle; pages: number }> {
    const entries: BundleEntry[] = [...(first.entry ?? [])];
    let page = first;
    let pages = 1;
    this.checkEntries(entries.length);
    for (let next = nextLink(page); next !== undefined && !bounded; next = nextLink(page)) {
      if (!isUnderBase(next, this.base)) throw new FhirFetchError('bad_response');
      if (pages >= this.options.maxPages) throw new FhirFetchError('too_many_pages');
      page = asSearchset(await this.get(next));
      pages += 1;
      entries.push(...(page.entry ?? []));
      this.checkEntries(entries.length);
    }
    const self = first.link?.filter((l) => l.relation === 'self');
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(first.total !== undefined && { total: first.total }),
      ...(self?.length && { link: self }),
      ...(entries.length > 0 && { entry: entries }),
    };
    return { bundle, pages };
  }

  private checkEntries(count: number): void {
    if (count > this.options.maxEntries) throw new FhirFetchError('too_many_entries');
  }

  /**
   * One GET, following redirects by hand: fetch's own redirect handling would go to any origin (carrying the
   * request there and bringing its answer into the prompt). Each hop must stay under this fetcher's base
   * (same scheme, host, port and base path, `isUnderBase`) and there are at most MAX_REDIRECTS of them.
   */
  private async get(url: string): Promise<FhirResource> {
    // Outside the try: failing to load fhir-kit-client is a deployment bug, not a FHIR server problem.
    const client = await this.fhirKit();
    let target = url;
    for (let hop = 0; ; hop += 1) {
      try {
        const result: unknown = await client.request(target, {
          options: { signal: AbortSignal.timeout(this.options.timeoutMs), redirect: 'manual' },
        });
        if (!isResource(result)) throw new FhirFetchError('bad_response');
        // fhir-kit-client hangs the Request (with its Authorization header) and Response on the result as hidden
        // properties; a structured clone drops them so the token cannot travel on with the data.
        return structuredClone(result);
      } catch (err) {
        const location = redirectLocation(err);
        if (location === undefined) throw toFhirFetchError(err);
        if (!isUnderBase(location, this.base)) throw new FhirFetchError('redirect_refused');
        if (hop >= MAX_REDIRECTS) throw new FhirFetchError('too_many_redirects');
        target = location;
      }
    }
  }

  private fhirKit(): Promise<Client> {
    this.client ??= createFhirKitClient({
      baseUrl: this.base,
      ...(this.options.accessToken !== undefined && { bearerToken: this.options.accessToken }),
    });
    return this.client;
  }
}

const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * The absolute target of a redirect fhir-kit-client reported as an HTTP error (with `redirect: 'manual'` it
 * sees the 3xx itself and throws with the response headers and URL on `config`), or undefined.
 */
function redirectLocation(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { response, config } = err as {
    response?: { status?: unknown };
    config?: { headers?: unknown; url?: unknown };
  };
  if (typeof response?.status !== 'number' || !REDIRECT_STATUSES.has(response.status)) return undefined;
  const headers = config?.headers as { get?: (name: string) => string | null } | undefined;
  const location = typeof headers?.get === 'function' ? headers.get('location') : null;
  // A 3xx without a Location is just a bad answer; it is left to toFhirFetchError.
  if (!location || typeof config?.url !== 'string') return undefined;
  try {
    return new URL(location, config.url).href;
  } catch {
    return undefined;
  }
}

function asSearchset(resource: FhirResource): Bundle {
  if (resource.resourceType !== 'Bundle' || resource.type !== 'searchset') throw new FhirFetchError('bad_response');
  return resource;
}

function nextLink(bundle: Bundle): string | undefined {
  return bundle.link?.find((l) => l.relation === 'next')?.url;
}

function isResource(value: unknown): value is FhirResource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { resourceType?: unknown }).resourceType === 'string'
  );
}
