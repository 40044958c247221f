import { FhirFetcher } from '../client/fhir-fetcher';
import { FhirFetchError, type FhirFetchErrorCode } from '../client/fhir-fetch-error';
import { describeFhirRequest, type FhirInteraction } from '../client/fhir-url';
import { boundedMap } from './bounded-map';
import { classifyPrefetchValue, type PrefetchValueKind } from './prefetch-gaps';
import { resolvePrefetchTemplate } from './prefetch-template';

export interface ResolvePrefetchInput {
  readonly templates: Record<string, string>;
  readonly hookContext: Record<string, unknown>;
  readonly userId?: string;
  readonly prefetch?: Record<string, unknown>;
  /** The request's `fhirServer`. Untrusted: the caller decides `fhirServerAllowed` against its allow-list. */
  readonly fhirServer?: string;
  /** `fhirAuthorization.access_token`; used for these calls only. */
  readonly accessToken?: string;
  readonly fhirServerAllowed: boolean;
  readonly timeoutMs: number;
  readonly maxPages: number;
  /** Per search, over all pages. Default 1000. */
  readonly maxEntries?: number;
  /** Gaps fetched at once. Default 4. */
  readonly concurrency?: number;
  /**
   * Keys without which the call cannot be answered: their gaps are fetched first, and when one of them cannot be
   * had the other gaps are not fetched at all (the answer is a refusal; the EHR is spared the searches).
   */
  readonly requiredKeys?: ReadonlyArray<string>;
}

export type UnavailableReason =
  | 'fhir_server_not_allowed'
  | 'no_fhir_server'
  | 'template_unresolvable'
  | 'required_key_unavailable'
  | FhirFetchErrorCode;

/**
 * One FHIR call made for a prefetch key, shaped for an IHE BALP Read (`read`) or Query (`search-type`)
 * AuditEvent. It names the key and resource type but no query values (they identify the patient).
 */
export interface PrefetchFetchAudit {
  readonly key: string;
  readonly interaction: FhirInteraction;
  readonly resourceType: string;
  readonly outcome: 'success' | FhirFetchErrorCode;
  readonly pages: number;
}

export interface ResolvedPrefetch {
  /** Usable values: what the client sent and we accept, plus what we fetched. Unavailable keys are absent. */
  readonly data: Record<string, unknown>;
  readonly fetched: string[];
  readonly unavailable: Array<{ key: string; reason: UnavailableReason }>;
  readonly audit: PrefetchFetchAudit[];
}

interface Gap {
  readonly key: string;
  readonly kind: Exclude<PrefetchValueKind, 'present'>;
}

type GapOutcome =
  | { key: string; ok: true; value: unknown; audit: PrefetchFetchAudit }
  | { key: string; ok: false; reason: UnavailableReason; audit?: PrefetchFetchAudit };

/**
 * Keeps what the CDS Client prefetched and fetches only the gaps from its FHIR server.
 *
 * A gap the client answered with "no data" (`null`, an empty Bundle: kind `empty`) that we cannot re-check
 * keeps the client's answer: the spec makes that a legitimate answer, and refusing it would turn every patient
 * without allergies into a 412 for EHRs that send no token. Missing keys and reported errors are unavailable.
 */
export async function resolvePrefetch(input: ResolvePrefetchInput): Promise<ResolvedPrefetch> {
  const data: Record<string, unknown> = {};
  const gaps: Gap[] = [];
  for (const [key, template] of Object.entries(input.templates)) {
    const kind = classifyPrefetchValue(template, input.prefetch, key);
    if (kind === 'present') data[key] = input.prefetch?.[key];
    else gaps.push({ key, kind });
  }

  const required = new Set(input.requiredKeys ?? []);
  const first = gaps.filter((g) => required.has(g.key));
  const rest = gaps.filter((g) => !required.has(g.key));
  const firstOutcomes = await fillGaps(first, input);
  const requiredFailed = firstOutcomes.some((o, i) => !o.ok && first[i]?.kind !== 'empty');
  const restOutcomes: GapOutcome[] = requiredFailed
    ? rest.map(({ key }) => ({ key, ok: false, reason: 'required_key_unavailable' }))
    : await fillGaps(rest, input);
  gaps.splice(0, gaps.length, ...first, ...rest);
  const outcomes = [...firstOutcomes, ...restOutcomes];
  const fetched: string[] = [];
  const unavailable: ResolvedPrefetch['unavailable'] = [];
  const audit: PrefetchFetchAudit[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.audit) audit.push(outcome.audit);
    if (outcome.ok) {
      data[outcome.key] = outcome.value;
      fetched.push(outcome.key);
    } else if (gaps[i]?.kind === 'empty') {
      data[outcome.key] = input.prefetch?.[outcome.key];
    } else {
      unavailable.push({ key: outcome.key, reason: outcome.reason });
    }
  }
  return { data, fetched, unavailable, audit };
}

async function fillGaps(gaps: Gap[], input: ResolvePrefetchInput): Promise<GapOutcome[]> {
  if (gaps.length === 0) return [];
  const blocked = !input.fhirServerAllowed
    ? 'fhir_server_not_allowed'
    : !input.fhirServer
      ? 'no_fhir_server'
      : undefined;
  if (blocked || !input.fhirServer) {
    return gaps.map(({ key }) => ({ key, ok: false, reason: blocked ?? 'no_fhir_server' }));
  }
  const fetcher = new FhirFetcher({
    baseUrl: input.fhirServer,
    ...(input.accessToken !== undefined && { accessToken: input.accessToken }),
    timeoutMs: input.timeoutMs,
    maxPages: input.maxPages,
    maxEntries: input.maxEntries ?? 1000,
  });
  return boundedMap(gaps, input.concurrency ?? 4, (gap) => fillGap(gap.key, fetcher, input));
}

async function fillGap(key: string, fetcher: FhirFetcher, input: ResolvePrefetchInput): Promise<GapOutcome> {
  const template = input.templates[key] ?? '';
  const resolved = resolvePrefetchTemplate(template, {
    context: input.hookContext,
    ...(input.userId !== undefined && { userId: input.userId }),
  });
  if (!resolved.ok) return { key, ok: false, reason: 'template_unresolvable' };
  const shape = describeFhirRequest(resolved.url);
  if (!shape) return { key, ok: false, reason: 'invalid_url' };
  try {
    const result = await fetcher.fetch(resolved.url);
    return { key, ok: true, value: result.resource, audit: { key, ...shape, outcome: 'success', pages: result.pages } };
  } catch (err) {
    // Anything but a FhirFetchError is a bug: let it fail the request loudly instead of posing as a FHIR outcome.
    if (!(err instanceof FhirFetchError)) throw err;
    const code = err.code;
    // `pages: 0`: the call failed, so no page of data was used (BALP records the failed attempt all the same).
    return { key, ok: false, reason: code, audit: { key, ...shape, outcome: code, pages: 0 } };
  }
}
