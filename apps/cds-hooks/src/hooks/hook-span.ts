import { inSpan } from '@app/observability';

export const HOOK_TRACER = 'meditron-cds-hooks';

/** A step of the hook call as a span (ids, counts and codes only: see @app/observability spans). */
export function hookStep<T>(name: string, work: () => Promise<T>): Promise<T> {
  return inSpan(HOOK_TRACER, name, {}, work);
}
