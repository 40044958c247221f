import { z } from 'zod';
import { fhirBaseUrlSchema } from '@app/fhir/client/fhir-url';

/** One EHR allowed to call the CDS services: how to check its tokens and what it may reach. */
export const ehrClientSchema = z.strictObject({
  /** Stable id used in audit events and logs (never a patient identifier). */
  id: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/),
  /** The `iss` claim of its CDS Hooks JWTs. */
  issuer: z.string().min(1),
  tenant: z.string().min(1).default('default'),
  /** Where its signing keys are published; or `jwks` inline. */
  jwksUrl: z.url().optional(),
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).optional(),
  /** `jku` header values accepted for this client (exact URLs). */
  allowedJku: z.array(z.url()).default([]),
  /** CDS service ids it may call; `*` for all. */
  services: z.array(z.string().min(1)).default(['*']),
  /**
   * FHIR base URLs cds-hooks may call back for this client (the request's fhirServer must be one of them, port
   * included). http(s) only, no user info, query or fragment: refused here, at registration.
   */
  fhirBaseUrls: z.array(fhirBaseUrlSchema).default([]),
  /** Overrides the gateway's RATE_LIMIT_PER_SECOND / RATE_LIMIT_BURST for this client. */
  rateLimit: z.strictObject({ perSecond: z.number().positive(), burst: z.number().int().positive() }).optional(),
});

export type EhrClient = z.infer<typeof ehrClientSchema>;

export const ehrClientRegistrySchema = z.strictObject({ clients: z.array(ehrClientSchema) });

/**
 * The header that once told cds-hooks which client called. Nothing reads it any more (cds-hooks takes the client
 * from the gateway's signed per-call token); the gateway still drops a copy sent by a caller.
 */
export const CLIENT_ID_HEADER = 'x-meditron-client-id';
