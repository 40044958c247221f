/**
 * What a log line may say about an error: its class and, when it has one, its code (a Postgres SQLSTATE such as
 * `23505`, a Node code such as `ECONNREFUSED`). Never the message: a driver error quotes the failing row's values
 * (`Key (mrn)=(12345) already exists`), which can be patient data.
 */
export function errorKind(e: unknown): string {
  if (!(e instanceof Error)) return `non-error thrown (${typeof e})`;
  const code = codeOf(e) ?? codeOf((e as { driverError?: unknown }).driverError);
  return code ? `${e.name} (code ${code})` : e.name;
}

function codeOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  // Only code-shaped values: a code is an identifier, never free text.
  return (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/i.test(code)) || typeof code === 'number'
    ? String(code)
    : undefined;
}
