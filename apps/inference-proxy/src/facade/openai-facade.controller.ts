import { Controller, Get, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { BackendPool } from '../backends/backend-pool.service';
import { INFERENCE_PROXY_CONFIG, type InferenceProxyConfig } from '../inference-proxy.config';
import { FacadeAuthGuard, type FacadeRequest } from './facade-auth.guard';
import { FacadeRelay } from './facade-relay.service';

interface FacadeModel {
  id: string;
  object: 'model';
  owned_by: string;
  max_model_len?: number;
  max_input_tokens?: number;
}

/** OpenAI-compatible surface over the proxy's pool, for governed callers such as evaluation jobs. */
@Controller('v1')
@UseGuards(FacadeAuthGuard)
export class OpenAiFacadeController {
  constructor(
    private readonly relay: FacadeRelay,
    @Inject(INFERENCE_PROXY_CONFIG) private readonly config: InferenceProxyConfig,
    private readonly pool: BackendPool,
  ) {}

  /**
   * The served model, with the smallest limits the pool's backends report (vLLM's `max_model_len` field name;
   * `max_input_tokens` as TGI names it): what a prompt budget for this pool must fit. Absent until reported.
   */
  @Get('models')
  models(): { object: 'list'; data: Array<FacadeModel> } {
    const { maxInputTokens, maxTotalTokens } = this.pool.reportedLimits();
    return {
      object: 'list',
      data: [
        {
          id: this.config.INFERENCE_MODEL,
          object: 'model',
          owned_by: 'meditron-cds',
          ...(maxTotalTokens !== null ? { max_model_len: maxTotalTokens } : {}),
          ...(maxInputTokens !== null ? { max_input_tokens: maxInputTokens } : {}),
        },
      ],
    };
  }

  @Post('completions')
  completions(@Req() req: FacadeRequest, @Res() res: Response): Promise<void> {
    return this.relay.relay('/completions', req, res);
  }

  @Post('chat/completions')
  chat(@Req() req: FacadeRequest, @Res() res: Response): Promise<void> {
    return this.relay.relay('/chat/completions', req, res);
  }
}
