/**
 * Prefetch template resolution (CDS Hooks 2.0.1, "Prefetch tokens").
 *
 * A template is a relative FHIR read or search URL with `{{...}}` tokens. Tokens name either a root-level
 * primitive context field (`{{context.patientId}}`) or one of the four user tokens derived from
 * `context.userId`. Anything we cannot resolve makes the whole template unresolvable: sending a half-filled
 * query (e.g. `Condition?patient=`) to an EHR could return other patients' data or everything.
 */

export type PrefetchTemplateResult = { ok: true; url: string } | { ok: false; reason: string };

export interface PrefetchTemplateContext {
  readonly context: Record<string, unknown>;
  /** Overrides `context.userId` (some callers carry the user outside the context object). */
  readonly userId?: string;
}

/** User tokens and the resource type `context.userId` must name for each (spec table "Prefetch tokens identifying the user"). */
const USER_TOKENS: Readonly<Record<string, string>> = {
  userPractitionerId: 'Practitioner',
  userPractitionerRoleId: 'PractitionerRole',
  userPatientId: 'Patient',
  userRelatedPersonId: 'RelatedPerson',
};

/** FHIR id syntax (R4 `id` datatype): also keeps `/`, `?`, `&` and `#` out of path segments. */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function resolvePrefetchTemplate(template: string, ctx: PrefetchTemplateContext): PrefetchTemplateResult {
  const queryStart = template.indexOf('?');
  let failure: string | undefined;
  const url = template.replace(TOKEN, (match: string, name: string, offset: number) => {
    const value = tokenValue(name, ctx);
    if (!value.ok) {
      failure ??= value.reason;
      return match;
    }
    const inQuery = queryStart >= 0 && offset > queryStart;
    return inQuery ? encodeQueryValue(value.value) : encodePathValue(value.value, (r) => (failure ??= r));
  });
  if (failure !== undefined) return { ok: false, reason: failure };
  if (url.includes('{{') || url.includes('}}')) return { ok: false, reason: 'malformed token' };
  return { ok: true, url };
}

type TokenValue = { ok: true; value: string } | { ok: false; reason: string };

function tokenValue(name: string, ctx: PrefetchTemplateContext): TokenValue {
  if (name.startsWith('context.')) return contextValue(name.slice('context.'.length), ctx.context);
  const userType = USER_TOKENS[name];
  if (userType !== undefined) return userValue(name, userType, ctx.userId ?? ctx.context['userId']);
  return { ok: false, reason: `unknown token {{${name}}}` };
}

function contextValue(field: string, context: Record<string, unknown>): TokenValue {
  // Only root-level fields are tokens (spec: `{{context.medication.id}}` is not valid).
  if (field === '' || field.includes('.')) return { ok: false, reason: `unsupported token {{context.${field}}}` };
  const value = context[field];
  if (typeof value === 'string' && value !== '') return { ok: true, value };
  if (typeof value === 'number' || typeof value === 'boolean') return { ok: true, value: String(value) };
  // Arrays of ids (e.g. order-select `selections`) become a FHIR OR list: `a,b,c`.
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== '')) {
    return { ok: true, value: value.join(',') };
  }
  return { ok: false, reason: `context.${field} is missing or not a primitive` };
}

function userValue(token: string, type: string, userId: unknown): TokenValue {
  if (typeof userId !== 'string') return { ok: false, reason: `{{${token}}} needs context.userId` };
  const [userType, id, ...rest] = userId.split('/');
  if (userType !== type || id === undefined || rest.length > 0) {
    return { ok: false, reason: `{{${token}}} needs a ${type} user` };
  }
  return { ok: true, value: id };
}

/**
 * Query values are percent-encoded, except `,` (FHIR's OR separator, which we produce for arrays) and `|`
 * and `/` (token system|code and Type/id references, which servers expect literally). `&`, `=`, `#`, `+`
 * and spaces are encoded so a context value can never add a search parameter.
 */
function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/%2C/gi, ',').replace(/%7C/gi, '|').replace(/%2F/gi, '/');
}

/** Path values must be a FHIR id or `Type/id` (for `{{context.userId}}` reads); anything else could walk the path. */
function encodePathValue(value: string, fail: (reason: string) => void): string {
  const parts = value.split('/');
  const valid =
    (parts.length === 1 || (parts.length === 2 && /^[A-Z][A-Za-z]+$/.test(parts[0] ?? ''))) &&
    FHIR_ID.test(parts[parts.length - 1] ?? '');
  if (!valid) fail('token value is not a FHIR id');
  return value;
}
