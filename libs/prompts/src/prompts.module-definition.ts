import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ModelProfile } from './profiles/model-profiles';

/** What prompts are built for: the served model's profile (template, tokenizer, context). */
export interface PromptsModuleOptions {
  readonly profile: ModelProfile;
}

export const { ConfigurableModuleClass: PromptsConfigurableModule, MODULE_OPTIONS_TOKEN: PROMPTS_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<PromptsModuleOptions>().build();

/** The served model's profile, for what budgets or reads model output by it (context size, answer parsing). */
export const MODEL_PROFILE = Symbol('MODEL_PROFILE');
