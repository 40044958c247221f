import { Inject, Injectable, Logger } from '@nestjs/common';
import type { InferenceResultEntity } from '@app/database';
import { MODEL_PROFILE, PromptBuilder, type BuiltPrompt, type ModelProfile } from '@app/prompts';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import type { Card } from '../cards/card';
import { composeCards, type AnswerDetail } from '../cards/card-composer';
import type { CardTextPolicy } from '../cards/card-markdown';
import type { HookCall, StartedInference } from './hook-call';
import { InferenceStarter } from './inference-starter.service';

export interface CardAnswer {
  /** The inference the cards come from (the repair's, if one ran). */
  readonly requestId: string;
  readonly result: InferenceResultEntity | undefined;
  readonly cards: Card[];
  readonly detail: AnswerDetail;
}

/**
 * Turns the model's answer into cards, with at most one repair attempt while the budget lasts: the same
 * prompt with a stricter reminder, when the first output was not valid structured output.
 */
@Injectable()
export class CardAnswerService {
  private readonly logger = new Logger(CardAnswerService.name);
  private readonly cardText: CardTextPolicy;

  constructor(
    private readonly starter: InferenceStarter,
    private readonly prompts: PromptBuilder,
    @Inject(MODEL_PROFILE) private readonly profile: ModelProfile,
    @Inject(CDS_HOOKS_CONFIG) config: CdsHooksConfig,
  ) {
    this.cardText = { linkHosts: new Set(config.CARD_LINK_HOSTS) };
  }

  async answer(call: HookCall, prompt: BuiltPrompt, first: StartedInference): Promise<CardAnswer> {
    const { service } = call;
    let requestId = first.requestId;
    let result = await first.result();
    let { cards, detail } = composeCards(result, prompt.manifest.references, service, this.profile, this.cardText);
    if ((detail.output === 'not_json' || detail.output === 'schema_mismatch') && Date.now() < call.answerBy) {
      const repair = await this.starter.start(call, this.prompts.repair(prompt));
      requestId = repair.requestId;
      result = await repair.result();
      const repaired = composeCards(result, prompt.manifest.references, service, this.profile, this.cardText);
      cards = repaired.cards;
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
    return { requestId, result, cards, detail };
  }
}
