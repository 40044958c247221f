import { CHATML_CONTROL_STRINGS, FASTCHAT_MEDITRON, LLAMA_3_CHAT, type PromptTemplate } from './prompt-templates';

export type TokenizerFamily = 'llama2' | 'llama3';

/** How to talk to one deployed model. */
export interface ModelProfile {
  readonly id: 'meditron-70b' | 'llama-3-meditron';
  /** Named on every card. */
  readonly label: string;
  /** Meditron-70B is a base model (completions, its authors' FastChat template); Llama-3-Meditron is chat-tuned. */
  readonly api: 'completion' | 'chat';
  /** Fallback context length, used only when no backend of the pool reports its own. */
  readonly contextTokens: number;
  readonly maxOutputTokens: number;
  readonly tokenizer: TokenizerFamily;
  readonly template: PromptTemplate;
  /** Show one worked example (synthetic case, JSON answer) before the real case. */
  readonly oneShot: boolean;
}

export const MODEL_PROFILES: Readonly<Record<ModelProfile['id'], ModelProfile>> = {
  'meditron-70b': {
    id: 'meditron-70b',
    label: 'Meditron-70B',
    api: 'completion',
    contextTokens: 4096,
    maxOutputTokens: 512,
    tokenizer: 'llama2',
    template: FASTCHAT_MEDITRON,
    oneShot: true,
  },
  'llama-3-meditron': {
    id: 'llama-3-meditron',
    label: 'Llama-3-Meditron',
    api: 'chat',
    // Llama 3 8B's 8k; the pool's own report wins (the chart serves 4096 unless told otherwise).
    contextTokens: 8192,
    maxOutputTokens: 512,
    tokenizer: 'llama3',
    template: LLAMA_3_CHAT,
    oneShot: false,
  },
};

export function isProfileId(v: string): v is ModelProfile['id'] {
  return v in MODEL_PROFILES;
}

/** The profile a served model name most likely is (Llama 3 names say so); cds-hooks can override it. */
export function profileForModelName(name: string): ModelProfile {
  return MODEL_PROFILES[/llama-?3/i.test(name) ? 'llama-3-meditron' : 'meditron-70b'];
}

/** Stop strings a request for this profile must carry. */
export function profileStops(profile: ModelProfile): string[] {
  return [...profile.template.stop];
}

/**
 * Every control string of every template family we serve (and of ChatML): what the data-text neutraliser
 * must defuse so text from FHIR can never open or close a turn. Longest first, so a replacer that walks the
 * list never breaks a long marker by first matching a shorter one inside it.
 */
export function allControlStrings(): string[] {
  const all = new Set<string>(CHATML_CONTROL_STRINGS);
  for (const p of Object.values(MODEL_PROFILES)) for (const s of p.template.controlStrings) all.add(s);
  return [...all].sort((a, b) => b.length - a.length || a.localeCompare(b));
}
