import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { SERVICE_ID_PATTERN } from '@app/contracts';
import {
  resolveSuggestionPolicy,
  suggestionsConfigProblem,
  suggestionsConfigSchema,
  type SuggestionPolicy,
} from '../cards/suggestions/suggestion-policy';

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
  /** Which actions cards may suggest, from which formulary and lab panel (cards/suggestions/suggestion-policy.ts). */
  suggestions: suggestionsConfigSchema.optional(),
  /**
   * A link of type `absolute` on every card to the documentation of the model and its limits. Static: it never
   * carries patient data (no templates, no query string).
   */
  documentation: z
    .strictObject({
      label: z.string().min(1).max(80),
      url: z
        .url({ protocol: /^https$/ })
        .refine((u) => !/[{}]/.test(u) && !u.includes('?') && !u.includes('#'), 'a static https URL without query'),
    })
    .optional(),
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
  )
  .superRefine((c, ctx) =>
    c.services.forEach((s, i) => {
      const problem = suggestionsConfigProblem(s.hook, s.suggestions);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['services', i, 'suggestions', 'kinds'] });
    }),
  );

/** The shipped catalog; `CDS_SERVICES_FILE` points at another one. */
export const DEFAULT_CONFIG_DIR = join(__dirname, '..', '..', 'config');
export const DEFAULT_CATALOG_FILE = join(DEFAULT_CONFIG_DIR, 'cds-services.json');

export class ServiceCatalog {
  readonly enabled: ReadonlyArray<CdsServiceDefinition>;
  private readonly policies: ReadonlyMap<string, SuggestionPolicy>;

  /** `configDir` is where relative formulary and lab panel files are found (the catalog file's folder). */
  constructor(services: ReadonlyArray<CdsServiceDefinition>, configDir = DEFAULT_CONFIG_DIR) {
    this.enabled = services.filter((s) => s.enabled);
    this.policies = new Map(this.enabled.map((s) => [s.id, resolveSuggestionPolicy(s, configDir)]));
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
    try {
      return new ServiceCatalog(parsed.data.services, dirname(path));
    } catch (e) {
      throw new Error(`CDS_SERVICES_FILE: ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  find(id: string): CdsServiceDefinition | undefined {
    return this.enabled.find((s) => s.id === id);
  }

  /** What the service may suggest (off for an unknown service). */
  suggestionPolicy(id: string): SuggestionPolicy | undefined {
    return this.policies.get(id);
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
