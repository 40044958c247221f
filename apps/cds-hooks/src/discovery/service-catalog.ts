import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SERVICE_ID_PATTERN } from '@app/contracts';

export const SUPPORTED_HOOKS = [
  'patient-view',
  'order-select',
  'order-sign',
  'encounter-start',
  'encounter-discharge',
  'appointment-book',
] as const;
export type SupportedHook = (typeof SUPPORTED_HOOKS)[number];

const serviceSchema = z.strictObject({
  id: z.string().regex(SERVICE_ID_PATTERN),
  hook: z.enum(SUPPORTED_HOOKS),
  title: z.string().min(1),
  description: z.string().min(1),
  /** Off services are neither advertised nor answered. */
  enabled: z.boolean().default(true),
  /** Prefetch templates: exactly what the prompt uses. */
  prefetch: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), z.string().min(1)).default({}),
  /** Prefetch keys without which no useful answer can be given (412 when they cannot be had). */
  requiredPrefetch: z.array(z.string()).default([]),
  /** Response budget: past it the hook answers `{"cards": []}` and the inference finishes in the background. */
  budgetMs: z.number().int().positive().max(60_000).optional(),
  usageRequirements: z.string().optional(),
  /** `shadow`: run and record everything but return no cards, to validate a service before go-live. */
  mode: z.enum(['live', 'shadow']).default('live'),
  /** Whether the model alone may raise a `critical` card; otherwise it is lowered to `warning`. */
  allowCritical: z.boolean().default(false),
  /**
   * Services whose inference this call starts early with the same context (e.g. order-select warms order-sign,
   * which the EHR fires next with the same draft orders): the later call is answered from it.
   */
  prewarm: z.array(z.string()).default([]),
});

export type CdsServiceDefinition = z.infer<typeof serviceSchema>;

const catalogSchema = z
  .strictObject({ services: z.array(serviceSchema).min(1) })
  .refine((c) => new Set(c.services.map((s) => s.id)).size === c.services.length, 'service ids must be unique')
  .refine(
    (c) => c.services.every((s) => s.requiredPrefetch.every((k) => k in s.prefetch)),
    'requiredPrefetch keys must be prefetch keys',
  )
  .refine(
    (c) => c.services.every((s) => s.prewarm.every((id) => c.services.some((t) => t.id === id && t.id !== s.id))),
    'prewarm must name other services of the catalog',
  );

/** The shipped catalog; `CDS_SERVICES_FILE` points at another one. */
export const DEFAULT_CATALOG_FILE = join(__dirname, '..', '..', 'config', 'cds-services.json');

export class ServiceCatalog {
  readonly enabled: ReadonlyArray<CdsServiceDefinition>;

  constructor(services: ReadonlyArray<CdsServiceDefinition>) {
    this.enabled = services.filter((s) => s.enabled);
  }

  static fromFile(path: string): ServiceCatalog {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Error(`CDS_SERVICES_FILE: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const parsed = catalogSchema.safeParse(raw);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new Error(`CDS_SERVICES_FILE: ${path} is invalid: ${problems}`);
    }
    return new ServiceCatalog(parsed.data.services);
  }

  find(id: string): CdsServiceDefinition | undefined {
    return this.enabled.find((s) => s.id === id);
  }

  /** Discovery shape (CDS Hooks 2.0 §Discovery): internal settings are not advertised. */
  discovery(): { services: Array<Record<string, unknown>> } {
    return {
      services: this.enabled.map((s) => ({
        hook: s.hook,
        title: s.title,
        description: s.description,
        id: s.id,
        ...(Object.keys(s.prefetch).length > 0 ? { prefetch: s.prefetch } : {}),
        ...(s.usageRequirements ? { usageRequirements: s.usageRequirements } : {}),
      })),
    };
  }
}
