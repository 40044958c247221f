import { Inject, Injectable, Logger } from '@nestjs/common';
import type { InferenceResultEntity } from '@app/database';
import { MODEL_PROFILE, PromptBuilder, type BuiltPrompt, type ModelProfile } from '@app/prompts';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import type { Card } from '../cards/card';
import { composeCards, type AnswerDetail, type CardOptions, type SuggestionRecord } from '../cards/card-composer';
import type { CardTextPolicy } from '../cards/card-markdown';
import type { CallSuggestions } from '../cards/suggestions/call-suggestions';
import { loadR4Definitions } from '../cards/suggestions/r4-validator';
import { ServiceCatalog } from '../discovery/service-catalog';
import type { HookCall, StartedInference } from './hook-call';
import { InferenceStarter } from './inference-starter.service';

export interface CardAnswer {
  /** The inference the cards come from (the repair's, if one ran). */
  readonly requestId: string;
  readonly result: InferenceResultEntity | undefined;
  readonly cards: Card[];
  readonly detail: AnswerDetail;
  /** The suggestions the cards carry, to be kept on record with them. */
  readonly suggestions: SuggestionRecord[];
}

/**
 * Turns the model's answer into cards, with at most one repair attempt while the budget lasts: the same
 * prompt with a stricter reminder, when the first output was not valid structured output (`beforeRepair` is awaited
 * before the repair's inference is started: the caller's chance to put the call on record first).
 */
@Injectable()
export class CardAnswerService {
  private readonly logger = new Logger(CardAnswerService.name);
  private readonly cardText: CardTextPolicy;

  constructor(
    private readonly starter: InferenceStarter,
    private readonly prompts: PromptBuilder,
    @Inject(MODEL_PROFILE) private readonly profile: ModelProfile,
    catalog: ServiceCatalog,
    @Inject(CDS_HOOKS_CONFIG) config: CdsHooksConfig,
  ) {
    this.cardText = { linkHosts: new Set(config.CARD_LINK_HOSTS) };
    // The R4 definitions take about a second to index: at start-up, so no hook call pays for it.
    if (catalog.enabled.some((s) => catalog.suggestionPolicy(s.id)?.enabled)) loadR4Definitions();
  }

  async answer(
    call: HookCall,
    prompt: BuiltPrompt,
    first: StartedInference,
    offered?: CallSuggestions,
    beforeRepair?: () => Promise<void>,
  ): Promise<CardAnswer> {
    const { service } = call;
    const options: CardOptions = {
      textPolicy: this.cardText,
      ...(offered
        ? {
            suggestionPolicy: offered.policy,
            context: offered.context,
            ...(prompt.manifest.actions ? { menu: prompt.manifest.actions } : {}),
            ...(offered.link ? { link: offered.link } : {}),
          }
        : {}),
    };
    let requestId = first.requestId;
    let result = await first.result();
    let { cards, detail, suggestions } = composeCards(
      result,
      prompt.manifest.references,
      service,
      this.profile,
      options,
    );
    if ((detail.output === 'not_json' || detail.output === 'schema_mismatch') && Date.now() < call.answerBy) {
      await beforeRepair?.();
      const repair = await this.starter.start(call, this.prompts.repair(prompt));
      requestId = repair.requestId;
      result = await repair.result();
      const repaired = composeCards(result, prompt.manifest.references, service, this.profile, options);
      cards = repaired.cards;
      suggestions = repaired.suggestions;
      detail = {
        ...repaired.detail,
        repair:
          repaired.detail.output === 'valid'
            ? 'succeeded'
            : `failed:${repaired.detail.output ?? repaired.detail.result}`,
        firstOutput: detail.output,
      };
    }
    if (detail.dropped || detail.repair || detail.output === 'not_json' || detail.output === 'schema_mismatch') {
      this.logger.warn(
        `model answer for ${requestId}: output ${detail.output ?? 'n/a'}, repair ${detail.repair ?? 'none'}, ${detail.dropped?.length ?? 0} findings dropped`,
      );
    }
    return { requestId, result, cards, detail, suggestions };
  }
}
