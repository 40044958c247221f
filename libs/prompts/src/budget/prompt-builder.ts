import type { ClinicalSummary, Fact, SectionId } from '../summary/clinical-summary';
import { promptHash } from '../meditron-prompt';
import type { ModelProfile } from '../profiles/model-profiles';
import { appendToLastUser, wrapForProfile, type ChatTurn } from '../profiles/profile-wrapping';
import { HOOK_TEMPLATES, SECTION_TITLES, SYSTEM_RULES, type PromptHook } from '../templates/hook-templates';
import { tokenCounter } from './token-counter';

/** Kept with the inference request (inside the service): what the model saw, by handle, and what was left out. */
export interface PromptManifest {
  readonly profile: ModelProfile['id'];
  /** Handle -> FHIR resource reference, to ground the model's citations. */
  readonly references: Record<string, string>;
  readonly included: Partial<Record<SectionId, number>>;
  readonly omitted: Partial<Record<SectionId, number>>;
  readonly promptTokens: number;
  readonly budgetTokens: number;
}

export interface BuiltPrompt {
  readonly api: ModelProfile['api'];
  readonly prompt?: string;
  readonly messages?: ChatTurn[];
  readonly hash: string;
  /** `<hook template>/<chat template>`, e.g. `patient-view@1/fastchat-meditron@1`. */
  readonly templateVersion: string;
  /** Stop strings the request must carry (the template's turn markers). */
  readonly stop: string[];
  readonly maxTokens: number;
  readonly manifest: PromptManifest;
}

/** Room kept for special tokens and the chat template's own markup. */
export const MARGIN_TOKENS = 48;

/**
 * Prompt tokens allowed: the context (the smallest the pool reports, else the profile's constant) less the
 * answer's tokens and the margin. The chart's `--max-input-tokens` must be at least this plus the margin.
 */
export function promptBudgetTokens(profile: ModelProfile, contextTokens = profile.contextTokens): number {
  return contextTokens - profile.maxOutputTokens - MARGIN_TOKENS;
}

/**
 * Renders a hook's prompt for a model profile within its context: the answer's tokens are reserved first,
 * then facts are dropped from the least relevant section, oldest first, until the prompt fits. Draft orders
 * are never dropped. Tokens are counted with the model family's tokenizer.
 */
export async function buildPrompt(
  hook: PromptHook,
  summary: ClinicalSummary,
  profile: ModelProfile,
  opts: { contextTokens?: number } = {},
): Promise<BuiltPrompt> {
  const template = HOOK_TEMPLATES[hook];
  const counter = await tokenCounter(profile.tokenizer);
  const budgetTokens = promptBudgetTokens(profile, opts.contextTokens);
  const system = `${SYSTEM_RULES} ${template.task}`;
  const header = `Patient: ${summary.ageYears ?? 'unknown'}-year-old, sex ${summary.sex}.`;
  const line = (f: Fact) => `  ${f.handle}: ${f.text}`;

  const kept = new Map<SectionId, Fact[]>(template.sections.map((s) => [s, [...summary.sections[s]]]));
  const omitted: Partial<Record<SectionId, number>> = {};
  const render = () => {
    const block = (s: SectionId) => {
      const facts = kept.get(s)!;
      return `${SECTION_TITLES[s]}:\n${facts.length ? facts.map(line).join('\n') : '  (none recorded)'}${omitted[s] ? `\n  (${omitted[s]} older items left out)` : ''}`;
    };
    // Draft orders (when the template has them) come before everything else.
    const orders = template.sections.includes('orders') ? [block('orders')] : [];
    const user = [...orders, header, ...template.sections.filter((s) => s !== 'orders').map(block)].join('\n');
    return wrapForProfile(profile, system, user);
  };
  const exactCount = (r: ReturnType<typeof render>) => counter.count(r.prompt ?? JSON.stringify(r.messages));

  // Tokenizing is the costliest step of a hook call (the tokenizer is pure JavaScript): most prompts fit, and
  // are counted once. Only an oversized one is counted line by line, trimmed by that estimate, then recounted.
  let rendered = render();
  let exactTokens = exactCount(rendered);
  if (exactTokens > budgetTokens) {
    const cost = new Map<Fact, number>();
    for (const facts of kept.values()) for (const f of facts) cost.set(f, counter.count(`${line(f)}\n`));
    let total = exactTokens;
    const trimOrder = [...template.sections].reverse().filter((s) => s !== 'orders');
    const dropOne = (): boolean => {
      for (const section of trimOrder) {
        const dropped = kept.get(section)!.pop();
        if (dropped) {
          total -= cost.get(dropped)!;
          omitted[section] = (omitted[section] ?? 0) + 1;
          return true;
        }
      }
      return false;
    };
    while (total > budgetTokens && dropOne());
    rendered = render();
    exactTokens = exactCount(rendered);
    while (exactTokens > budgetTokens && dropOne()) {
      rendered = render();
      exactTokens = exactCount(rendered);
    }
  }

  const references: Record<string, string> = {};
  const included: Partial<Record<SectionId, number>> = {};
  for (const [section, facts] of kept) {
    if (facts.length) included[section] = facts.length;
    for (const f of facts) if (f.ref) references[f.handle] = f.ref;
  }
  const exact = rendered.prompt ?? JSON.stringify(rendered.messages);
  return {
    api: profile.api,
    ...rendered,
    hash: promptHash(exact),
    templateVersion: `${template.version}/${profile.template.version}`,
    stop: [...profile.template.stop],
    maxTokens: profile.maxOutputTokens,
    manifest: { profile: profile.id, references, included, omitted, promptTokens: exactTokens, budgetTokens },
  };
}

const REPAIR_REMINDER =
  'Your previous answer could not be used: it was not valid JSON in the required format. Answer again with only the JSON object {"findings":[...]}, nothing else.';

/**
 * The single repair attempt after invalid output: the same prompt with a stricter reminder (not the bad
 * answer, which would cost the tokens the new answer needs). Same facts, same handles, its own version.
 */
export function repairPrompt(built: BuiltPrompt): BuiltPrompt {
  const rendered = appendToLastUser(
    built.prompt !== undefined ? { prompt: built.prompt } : { messages: built.messages ?? [] },
    REPAIR_REMINDER,
  );
  const exact = rendered.prompt ?? JSON.stringify(rendered.messages);
  return { ...built, ...rendered, hash: promptHash(exact), templateVersion: `${built.templateVersion}+repair` };
}
