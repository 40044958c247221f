import { z } from 'zod';

/**
 * What a relative FHIR URL asks for, and whether an absolute URL stays on the FHIR server we were given.
 * Prefetch templates only use instance reads and type searches (CDS Hooks "Prefetch query restrictions").
 */

export type FhirInteraction = 'read' | 'search-type';

export interface FhirRequestShape {
  readonly interaction: FhirInteraction;
  readonly resourceType: string;
}

const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** `Patient/123` -> read; `Observation?code=x` or `Observation` -> search-type; anything else -> undefined. */
export function describeFhirRequest(relativeUrl: string): FhirRequestShape | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(relativeUrl) || relativeUrl.startsWith('//')) return undefined;
  const [path = ''] = relativeUrl.split(/[?#]/, 1);
  const segments = path.replace(/^\//, '').split('/');
  const [resourceType = '', id] = segments;
  if (!RESOURCE_TYPE.test(resourceType)) return undefined;
  if (segments.length === 1) return { interaction: 'search-type', resourceType };
  if (segments.length === 2 && id !== undefined && FHIR_ID.test(id)) return { interaction: 'read', resourceType };
  return undefined;
}

/**
 * Why a URL cannot be a FHIR base, as a fixed phrase (never the URL: it is caller input), or undefined when it
 * can. Used at registration (EHR client fhirBaseUrls) and per call (the hook's fhirServer), so an odd URL gets a
 * clear 400 instead of failing deep in the fetcher. `http://evil@host/fhir` would send the token's request to
 * `host` while a reader sees `evil`; a query or fragment would be glued onto every request path.
 */
export function fhirBaseProblem(baseUrl: string): string | undefined {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    return 'must be an absolute URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must use http or https';
  if (u.username || u.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(baseUrl)) return 'must not carry user info';
  if (u.search || u.hash || /[?#]/.test(baseUrl)) return 'must not carry a query or fragment';
  return undefined;
}

/** A FHIR base URL as a zod string, for registrations and requests; the issue names the field, not the value. */
export const fhirBaseUrlSchema = z.string().superRefine((value, ctx) => {
  const problem = fhirBaseProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `FHIR base URL ${problem}` });
});

/** Absolute base URL without trailing slash, e.g. `https://ehr.example.org/fhir`. */
export function normaliseFhirBase(baseUrl: string): string {
  const problem = fhirBaseProblem(baseUrl);
  if (problem) throw new Error(`FHIR base URL ${problem}`);
  const u = new URL(baseUrl);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/**
 * A `next` link is followed only when it points at the same scheme, host, port and base path: servers choose
 * these URLs, and following one elsewhere would send the access token there (and let the server make us call
 * arbitrary hosts).
 */
export function isUnderBase(url: string, normalisedBase: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  const base = new URL(normalisedBase);
  if (u.protocol !== base.protocol || u.host !== base.host) return false;
  return u.pathname === base.pathname || u.pathname.startsWith(`${base.pathname.replace(/\/$/, '')}/`);
}
