import { Module } from '@nestjs/common';
import { PromptBuilder } from './budget/prompt-builder.service';
import {
  MODEL_PROFILE,
  PROMPTS_MODULE_OPTIONS,
  PromptsConfigurableModule,
  type PromptsModuleOptions,
} from './prompts.module-definition';
import { Summarizer } from './summary/summarizer.service';

/**
 * Prompts for the served model: `Summarizer` turns FHIR data into the de-identified summary, `PromptBuilder`
 * budgets and renders it for the profile given to `register` / `registerAsync`, and `MODEL_PROFILE` is that
 * profile. The pure functions underneath (`summarize`, `buildPrompt`, `repairPrompt`) stay usable on their own.
 */
@Module({
  providers: [
    { provide: MODEL_PROFILE, useFactory: (o: PromptsModuleOptions) => o.profile, inject: [PROMPTS_MODULE_OPTIONS] },
    Summarizer,
    PromptBuilder,
  ],
  exports: [MODEL_PROFILE, Summarizer, PromptBuilder],
})
export class PromptsModule extends PromptsConfigurableModule {}
