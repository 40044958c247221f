import type {
  ClinicalSummary,
  Fact,
  LeftOut,
  LeftOutReason,
  SectionId,
  SectionState,
} from '../summary/clinical-summary';
import {
  ACTIONS_RULE,
  actionMenu,
  findingsJsonSchemaFor,
  renderActionMenu,
  type ActionMenu,
  type ActionOffer,
} from '../actions/action-menu';
import { promptHash } from '../meditron-prompt';
import type { ModelProfile } from '../profiles/model-profiles';
import { describeAge } from '../summary/age';
import { appendToLastUser, wrapForProfile, type ChatTurn } from '../profiles/profile-wrapping';
import {
  DATA_CLOSE,
  DATA_OPEN,
  HOOK_TEMPLATES,
  SECTION_TITLES,
  SYSTEM_RULES,
  type HookTemplate,
  type PromptHook,
} from '../templates/hook-templates';
import { tokenCounter } from './token-counter';

/** Kept with the inference request (inside the service): what the model saw, by handle, and what was left out. */
export interface PromptManifest {
  readonly profile: ModelProfile['id'];
  /** Handle -> FHIR resource reference, to ground the model's citations. */
  readonly references: Record<string, string>;
  /** Handle -> the de-identified fact line the model was shown, so a card's citations can be explained later. */
  readonly facts: Record<string, string>;
  readonly included: Partial<Record<SectionId, number>>;
  /** Lines left out for length (section caps and the token budget), per section, as the prompt says. */
  readonly omitted: Partial<Record<SectionId, number>>;
  /** What is known per section of the template: answered, not requested, or unavailable. */
  readonly sections: Partial<Record<SectionId, SectionState>>;
  /** Resources received and not shown, with the reason (the first LEFT_OUT_LISTED of them). */
  readonly leftOut: ReadonlyArray<LeftOut>;
  readonly leftOutCounts: Partial<Record<LeftOutReason, number>>;
  /** How many left-out resources are counted but not listed. */
  readonly leftOutUnlisted: number;
  readonly promptTokens: number;
  readonly budgetTokens: number;
  /** The actions the prompt offered, by handle (absent when none): what the model's choices are grounded in. */
  readonly actions?: ActionMenu;
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
  /** The structured-output schema for this prompt (its offered actions as enums of handles). */
  readonly outputSchema: Record<string, unknown>;
  readonly manifest: PromptManifest;
}

/** The manifest is stored with every inference request: a 9,000-resource prefetch lists the first ones. */
const LEFT_OUT_LISTED = 500;

/** A section's body when it has no lines: what is known about it, never "none" unless the EHR said none. */
function emptyBody(state: SectionState, section: SectionId): string {
  if (section === 'orders') return '(none in this request)';
  switch (state) {
    case 'answered':
      return '(none recorded)';
    case 'partial':
      return 'none in what could be retrieved (part of it could not be retrieved)';
    case 'unavailable':
      return 'not available (could not be retrieved)';
    case 'not-requested':
      return 'not available to this service (not requested)';
  }
}

/** Lab facts of the template's panels first (panel order), then the others newest first. */
function orderedFacts(section: SectionId, facts: ReadonlyArray<Fact>, template: HookTemplate): Fact[] {
  if (section !== 'labs') return [...facts];
  const rank = (f: Fact) => {
    const i = f.panel ? template.panels.indexOf(f.panel as HookTemplate['panels'][number]) : -1;
    return i < 0 ? template.panels.length : i;
  };
  return [...facts].sort((a, b) => rank(a) - rank(b) || (b.time ?? 0) - (a.time ?? 0));
}

/** Recorded in the template version of a prompt that offered actions (the rule and the menu's wording). */
export const ACTIONS_VERSION = 'actions@1';

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
  opts: { contextTokens?: number; actions?: ActionOffer } = {},
): Promise<BuiltPrompt> {
  const template = HOOK_TEMPLATES[hook];
  const counter = await tokenCounter(profile.tokenizer);
  const budgetTokens = promptBudgetTokens(profile, opts.contextTokens);
  // Draft orders are never trimmed, so the menu (which names them by handle) is fixed before the budget runs.
  const menu = actionMenu(opts.actions, template.sections.includes('orders') ? summary.sections.orders : []);
  const system = `${SYSTEM_RULES} ${template.task}${menu ? ` ${ACTIONS_RULE}` : ''}`;
  const header = `Patient: ${describeAge(summary.age)}, sex ${summary.sex}.`;
  const line = (f: Fact) => `  ${f.handle}: ${f.text}`;

  const kept = new Map<SectionId, Fact[]>(
    template.sections.map((s) => [s, orderedFacts(s, summary.sections[s], template)]),
  );
  // Lines the summary already cut for length (section caps) are counted with those the budget cuts.
  const omitted: Partial<Record<SectionId, number>> = Object.fromEntries(
    template.sections.filter((s) => summary.overCap[s]).map((s) => [s, summary.overCap[s]!]),
  );
  const budgetCut: Fact[] = [];
  const render = () => {
    const block = (s: SectionId) => {
      const facts = kept.get(s)!;
      const left = omitted[s] ? `  (${omitted[s]} more left out for length)` : '';
      const partial = summary.states[s] === 'partial' ? '\n  (part of this could not be retrieved)' : '';
      if (facts.length === 0 && left) return `${SECTION_TITLES[s]}:\n${left}${partial}`;
      if (facts.length === 0) return `${SECTION_TITLES[s]}: ${emptyBody(summary.states[s], s)}`;
      return `${SECTION_TITLES[s]}:\n${facts.map(line).join('\n')}${left ? `\n${left}` : ''}${partial}`;
    };
    // Draft orders (when the template has them) come before everything else; all of it is delimited as data.
    const orders = template.sections.includes('orders') ? [block('orders')] : [];
    const user = [
      DATA_OPEN,
      ...orders,
      header,
      ...template.sections.filter((s) => s !== 'orders').map(block),
      ...(menu ? [renderActionMenu(menu)] : []),
      DATA_CLOSE,
    ].join('\n');
    return wrapForProfile(profile, system, user);
  };
  const exactCount = (r: ReturnType<typeof render>) => counter.count(r.prompt ?? JSON.stringify(r.messages));

  // Tokenizing is the costliest step of a hook call (the tokenizer is pure JavaScript): most prompts fit, and
  // are counted once. An oversized one is trimmed by an estimate (each line's share of the prompt's own
  // tokens-per-character), then recounted exactly, dropping by the measured overshoot until it fits: a few
  // exact counts instead of one per line.
  let rendered = render();
  let exactTokens = exactCount(rendered);
  if (exactTokens > budgetTokens) {
    const perChar = exactTokens / Math.max(1, (rendered.prompt ?? JSON.stringify(rendered.messages)).length);
    const cost = (f: Fact) => Math.ceil((line(f).length + 1) * perChar);
    /** The "(N more left out for length)" line a section gains when its first line is dropped. */
    const NOTE_TOKENS = 12;
    const trimOrder = [...template.sections].reverse().filter((s) => s !== 'orders');
    const dropOne = (): number => {
      for (const section of trimOrder) {
        const dropped = kept.get(section)!.pop();
        if (dropped) {
          budgetCut.push(dropped);
          const note = omitted[section] ? 0 : NOTE_TOKENS;
          omitted[section] = (omitted[section] ?? 0) + 1;
          return cost(dropped) - note;
        }
      }
      return 0;
    };
    const dropAbout = (tokens: number) => {
      let saved = 0;
      while (saved < tokens) {
        const s = dropOne();
        if (s === 0) return;
        saved += s;
      }
    };
    do {
      dropAbout(exactTokens - budgetTokens);
      rendered = render();
      exactTokens = exactCount(rendered);
    } while (exactTokens > budgetTokens && trimOrder.some((s) => kept.get(s)!.length > 0));
  }

  const references: Record<string, string> = {};
  const factText: Record<string, string> = {};
  const included: Partial<Record<SectionId, number>> = {};
  for (const [section, facts] of kept) {
    if (facts.length) included[section] = facts.length;
    for (const f of facts) {
      if (f.ref) references[f.handle] = f.ref;
      factText[f.handle] = f.text;
    }
  }
  const exact = rendered.prompt ?? JSON.stringify(rendered.messages);
  return {
    api: profile.api,
    ...rendered,
    hash: promptHash(exact),
    templateVersion: `${template.version}${menu ? `+${ACTIONS_VERSION}` : ''}/${profile.template.version}`,
    stop: [...profile.template.stop],
    maxTokens: profile.maxOutputTokens,
    outputSchema: findingsJsonSchemaFor(menu),
    manifest: {
      profile: profile.id,
      references,
      facts: factText,
      included,
      omitted,
      sections: Object.fromEntries(template.sections.map((s) => [s, summary.states[s]])),
      ...leftOutOf(summary, template, budgetCut),
      promptTokens: exactTokens,
      budgetTokens,
      ...(menu ? { actions: menu } : {}),
    },
  };
}

/** Every resource not shown: the summary's reasons, sections this template leaves out, and the budget's cuts. */
function leftOutOf(
  summary: ClinicalSummary,
  template: HookTemplate,
  budgetCut: ReadonlyArray<Fact>,
): Pick<PromptManifest, 'leftOut' | 'leftOutCounts' | 'leftOutUnlisted'> {
  const all: LeftOut[] = [...summary.leftOut];
  for (const [section, facts] of Object.entries(summary.sections) as Array<[SectionId, ReadonlyArray<Fact>]>) {
    if (template.sections.includes(section)) continue;
    for (const f of facts) if (f.ref) all.push({ ref: f.ref, section, reason: 'not-in-template' });
  }
  for (const f of budgetCut) {
    const section = (Object.keys(summary.sections) as SectionId[]).find((s) => summary.sections[s].includes(f));
    if (f.ref) all.push({ ref: f.ref, section: section ?? null, reason: 'over-budget' });
  }
  const leftOutCounts: Partial<Record<LeftOutReason, number>> = {};
  for (const l of all) leftOutCounts[l.reason] = (leftOutCounts[l.reason] ?? 0) + 1;
  return {
    leftOut: all.slice(0, LEFT_OUT_LISTED),
    leftOutCounts,
    leftOutUnlisted: Math.max(0, all.length - LEFT_OUT_LISTED),
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
