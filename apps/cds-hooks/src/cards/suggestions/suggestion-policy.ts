import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { ACTION_KINDS, type ActionKind, type OfferedItem } from '@app/prompts';

/** Hooks whose context carries draft orders: the only ones where a draft can be removed or replaced. */
export const ORDER_HOOKS: ReadonlyArray<string> = ['order-select', 'order-sign'];

const DRAFT_KINDS: ReadonlyArray<ActionKind> = ['remove-draft', 'replace-draft'];

/** A service's `suggestions` block in the catalog; every field has a default (see README "Suggestions"). */
export const suggestionsConfigSchema = z.strictObject({
  /** Default: on for order hooks, off for the others. Always off in shadow mode. */
  enabled: z.boolean().optional(),
  /** Default: every kind for order hooks, `order-lab` for the others. */
  kinds: z.array(z.enum(ACTION_KINDS)).min(1).optional(),
  /** JSON files, relative to the catalog's folder; unset: the shipped config/formulary.json and config/lab-panel.json. */
  formularyFile: z.string().min(1).optional(),
  labPanelFile: z.string().min(1).optional(),
  /** `intent` of the resources a suggestion creates (R4 request-intent). */
  intent: z.enum(['proposal', 'plan', 'order']).default('proposal'),
});
export type SuggestionsConfig = z.infer<typeof suggestionsConfigSchema>;

const item = (system: z.ZodType<string>) =>
  z.strictObject({ system, code: z.string().regex(/^[^\s]+$/), display: z.string().min(1).max(120) });

const uniqueCodes = (items: ReadonlyArray<OfferedItem>) => new Set(items.map((i) => i.code)).size === items.length;

/** A coded formulary: replacement medications, never free text. */
const formularySchema = z.strictObject({
  description: z.string().optional(),
  medications: z.array(item(z.url())).min(1).max(30).refine(uniqueCodes, 'codes must be unique'),
});

/** Orderable lab and monitoring tests, LOINC-coded. */
const labPanelSchema = z.strictObject({
  description: z.string().optional(),
  tests: z
    .array(item(z.literal('http://loinc.org')))
    .min(1)
    .max(30)
    .refine(uniqueCodes, 'codes must be unique'),
});

/** What a service may suggest, resolved at start-up with its files read. */
export interface SuggestionPolicy {
  readonly enabled: boolean;
  readonly kinds: ReadonlyArray<ActionKind>;
  readonly medications: ReadonlyArray<OfferedItem>;
  readonly tests: ReadonlyArray<OfferedItem>;
  readonly intent: SuggestionsConfig['intent'];
}

export const SUGGESTIONS_OFF: SuggestionPolicy = {
  enabled: false,
  kinds: [],
  medications: [],
  tests: [],
  intent: 'proposal',
};

function readList<T>(file: string, schema: z.ZodType<T>, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${what} ${file}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `${what} ${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** Problems of a service's suggestions block that the catalog refuses at start-up (e.g. draft kinds on a hook without drafts). */
export function suggestionsConfigProblem(hook: string, config: SuggestionsConfig | undefined): string | undefined {
  const kinds = config?.kinds ?? [];
  if (!ORDER_HOOKS.includes(hook) && kinds.some((k) => DRAFT_KINDS.includes(k)))
    return `remove-draft and replace-draft need a hook with draft orders (${ORDER_HOOKS.join(', ')}), not ${hook}`;
  return undefined;
}

/** Where the shipped formulary and lab panel are (next to the shipped catalog). */
export const SHIPPED_CONFIG_DIR = join(__dirname, '..', '..', '..', 'config');

/**
 * A service's effective policy: the defaults for its hook, off in shadow mode, its formulary and lab panel
 * read only for the kinds that need them: a configured relative path against `configDir` (the catalog's
 * folder), else the shipped file, so a catalog mounted elsewhere still finds the defaults.
 */
export function resolveSuggestionPolicy(
  service: { hook: string; mode: 'live' | 'shadow'; suggestions?: SuggestionsConfig | undefined },
  configDir: string,
): SuggestionPolicy {
  const config = service.suggestions;
  const isOrderHook = ORDER_HOOKS.includes(service.hook);
  const enabled = (config?.enabled ?? isOrderHook) && service.mode === 'live';
  if (!enabled) return SUGGESTIONS_OFF;
  const kinds = config?.kinds ?? (isOrderHook ? [...ACTION_KINDS] : ['order-lab' as const]);
  const path = (file: string | undefined, shipped: string) =>
    file === undefined ? join(SHIPPED_CONFIG_DIR, shipped) : isAbsolute(file) ? file : join(configDir, file);
  const medications = kinds.includes('replace-draft')
    ? readList(path(config?.formularyFile, 'formulary.json'), formularySchema, 'formulary').medications
    : [];
  const tests = kinds.includes('order-lab')
    ? readList(path(config?.labPanelFile, 'lab-panel.json'), labPanelSchema, 'lab panel').tests
    : [];
  return { enabled, kinds, medications, tests, intent: config?.intent ?? 'proposal' };
}
