import { Inject, Injectable } from '@nestjs/common';
import type { ModelProfile } from '../profiles/model-profiles';
import { MODEL_PROFILE } from '../prompts.module-definition';
import type { ClinicalSummary } from '../summary/clinical-summary';
import type { PromptHook } from '../templates/hook-templates';
import { buildPrompt, repairPrompt, type BuiltPrompt } from './build-prompt';

/** What `buildPrompt` takes besides the hook, summary and profile (the context to budget for, ...). */
export type PromptOptions = NonNullable<Parameters<typeof buildPrompt>[3]>;

/** `buildPrompt` and `repairPrompt` for the profile PromptsModule was registered with. */
@Injectable()
export class PromptBuilder {
  constructor(@Inject(MODEL_PROFILE) readonly profile: ModelProfile) {}

  /** The prompt for `hook`, budgeted for `contextTokens` (default: the profile's own context); `buildPrompt`'s options. */
  build(hook: PromptHook, summary: ClinicalSummary, opts: PromptOptions = {}): Promise<BuiltPrompt> {
    return buildPrompt(hook, summary, this.profile, opts);
  }

  /** The same prompt with a stricter reminder, for one retry after output that was not valid. */
  repair(prompt: BuiltPrompt): BuiltPrompt {
    return repairPrompt(prompt);
  }
}
