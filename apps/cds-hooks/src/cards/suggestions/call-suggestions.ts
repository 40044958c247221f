import type { ActionOffer } from '@app/prompts';
import type { CdsServiceDefinition, ServiceCatalog } from '../../discovery/service-catalog';
import { contextResources, type HookContext } from '../../hooks/hook-contexts';
import type { CardLink } from '../card';
import { actionOffer, type SuggestionContext } from './action-offer';
import { SUGGESTIONS_OFF, type SuggestionPolicy } from './suggestion-policy';

/** A service's suggestion policy applied to one call: what the prompt offers, and what cards may refer to. */
export interface CallSuggestions {
  readonly policy: SuggestionPolicy;
  readonly context: SuggestionContext;
  /** Undefined when the service suggests nothing: the prompt and schema then offer no action. */
  readonly offer: ActionOffer | undefined;
  readonly link: CardLink | undefined;
}

export function callSuggestions(
  catalog: ServiceCatalog,
  service: CdsServiceDefinition,
  context: HookContext,
): CallSuggestions {
  const policy = catalog.suggestionPolicy(service.id) ?? SUGGESTIONS_OFF;
  // Only the draft orders: appointment-book's appointments are never a suggestion's target.
  const drafts = 'draftOrders' in context ? contextResources(context) : [];
  const ctx: SuggestionContext = { patientId: context.patientId, drafts };
  const doc = service.documentation;
  return {
    policy,
    context: ctx,
    offer: actionOffer(policy, ctx),
    link: doc ? { label: doc.label, url: doc.url, type: 'absolute' } : undefined,
  };
}
