import { z } from 'zod';
import { fhirBaseUrlSchema } from '@app/fhir';

const fhirAuthorization = z.object({
  access_token: z.string().min(1),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().nonnegative(),
  scope: z.string().min(1),
  subject: z.string().min(1),
  patient: z.string().optional(),
});

/** CDS Hooks 2.0 HTTP request. Unknown fields are tolerated (EHRs add extensions). */
export const hookRequestSchema = z
  .looseObject({
    hook: z.string().min(1).max(100),
    hookInstance: z.uuid(),
    // Odd schemes, user info, queries: a 400 here rather than a failure at fetch time.
    fhirServer: fhirBaseUrlSchema.optional(),
    fhirAuthorization: fhirAuthorization.optional(),
    context: z.record(z.string(), z.unknown()),
    prefetch: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((r) => r.fhirAuthorization === undefined || r.fhirServer !== undefined, {
    message: 'fhirServer is required when fhirAuthorization is present',
    path: ['fhirServer'],
  });

export type HookRequest = z.infer<typeof hookRequestSchema>;

/** Problems as `{ expression, diagnostics }`, naming fields, never echoing values. */
export function describeIssues(error: z.ZodError, prefix = ''): Array<{ expression: string; diagnostics: string }> {
  return error.issues.map((i) => {
    const expression = [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(body)';
    const diagnostics =
      i.code === 'custom'
        ? i.message
        : `${expression}: ${i.code.replace(/_/g, ' ')}${'expected' in i ? ` (expected ${String(i.expected)})` : ''}`;
    return { expression, diagnostics };
  });
}
