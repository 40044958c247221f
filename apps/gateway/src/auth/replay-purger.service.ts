import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PgReplayGuard } from '@app/auth';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { errorKind } from '@app/observability';

/** Deletes expired jti rows in the background so the replay table stays as small as the tokens still valid. */
@Injectable()
export class ReplayPurger implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ReplayPurger.name);
  private stop: (() => Promise<void>) | undefined;

  constructor(
    private readonly replay: PgReplayGuard,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onModuleInit(): void {
    this.stop = this.replay.startPurging(this.config.REPLAY_PURGE_MS, (e) =>
      this.logger.warn(`jwt_replay purge failed: ${errorKind(e)}`),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop?.();
  }
}
