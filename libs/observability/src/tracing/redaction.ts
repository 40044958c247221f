import type { Span } from '@opentelemetry/api';

/** URL attributes (old and stable HTTP semantic conventions) that can carry a query string. */
const URL_ATTRIBUTES = ['http.url', 'url.full', 'http.target'] as const;

/** `/path?query` or `scheme://host/path?query` without its query and fragment. */
export function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

function attributesOf(span: Span): Readonly<Record<string, unknown>> {
  // The SDK's spans are readable (ReadableSpan); the API's no-op span has no attributes.
  const attributes: unknown = (span as unknown as { attributes?: unknown }).attributes;
  return typeof attributes === 'object' && attributes !== null ? (attributes as Record<string, unknown>) : {};
}

/**
 * Query strings are never recorded: FHIR-style searches (`?patient=...`, the compliance audit search) put patient
 * references there. Rewrites the URL attributes the HTTP instrumentation set at the span's start and blanks
 * `url.query`.
 */
export function redactUrlAttributes(span: Span): void {
  const attributes = attributesOf(span);
  for (const key of URL_ATTRIBUTES) {
    const value = attributes[key];
    if (typeof value === 'string') span.setAttribute(key, withoutQuery(value));
  }
  if (attributes['url.query'] !== undefined) span.setAttribute('url.query', '');
}
