import { FhirModule } from '@app/fhir';
import { PromptsModule } from '@app/prompts';
import { CDS_HOOKS_CONFIG, modelProfileOf, type CdsHooksConfig } from './cds-hooks.config';

/**
 * libs/fhir and libs/prompts as this app configures them, registered once and imported by the feature modules
 * that use them (one instance each, however many import them).
 */

/** The bounds of every FHIR call a hook makes (FHIR_TIMEOUT_MS, FHIR_MAX_PAGES). Imported by PrefetchModule. */
export const fhirModule = FhirModule.registerAsync({
  inject: [CDS_HOOKS_CONFIG],
  useFactory: (c: CdsHooksConfig) => ({ timeoutMs: c.FHIR_TIMEOUT_MS, maxPages: c.FHIR_MAX_PAGES }),
});

/**
 * The served model's profile (MODEL_PROFILE, or guessed from INFERENCE_MODEL). Imported by HooksModule (prompts,
 * cards) and ModelLimitsModule (the context budget).
 */
export const promptsModule = PromptsModule.registerAsync({
  inject: [CDS_HOOKS_CONFIG],
  useFactory: (c: CdsHooksConfig) => ({ profile: modelProfileOf(c) }),
});
