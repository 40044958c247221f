import { Controller, Get, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { INFERENCE_PROXY_CONFIG, type InferenceProxyConfig } from '../inference-proxy.config';
import { FacadeAuthGuard, type FacadeRequest } from './facade-auth.guard';
import { FacadeRelay } from './facade-relay';

/** OpenAI-compatible surface over the proxy's pool, for governed callers such as evaluation jobs. */
@Controller('v1')
@UseGuards(FacadeAuthGuard)
export class OpenAiFacadeController {
  constructor(
    private readonly relay: FacadeRelay,
    @Inject(INFERENCE_PROXY_CONFIG) private readonly config: InferenceProxyConfig,
  ) {}

  @Get('models')
  models(): { object: 'list'; data: Array<{ id: string; object: 'model'; owned_by: string }> } {
    return { object: 'list', data: [{ id: this.config.INFERENCE_MODEL, object: 'model', owned_by: 'meditron-cds' }] };
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
