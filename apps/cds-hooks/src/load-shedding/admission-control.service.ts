import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CDS_HOOKS_CONFIG, type CdsHooksConfig } from '../cds-hooks.config';
import { AdmissionGate } from './admission-gate';
import { EventLoopDelay } from './event-loop-delay';

/** The gate of this replica, with the event-loop monitor running while the module lives (only when it is used). */
@Injectable()
export class AdmissionControl extends AdmissionGate implements OnModuleInit, OnModuleDestroy {
  private readonly loop: EventLoopDelay;
  private readonly watchLoop: boolean;

  constructor(@Inject(CDS_HOOKS_CONFIG) config: CdsHooksConfig) {
    const loop = new EventLoopDelay();
    super({ maxInFlight: config.HOOK_MAX_IN_FLIGHT, maxEventLoopDelayMs: config.HOOK_MAX_EVENT_LOOP_DELAY_MS }, loop);
    this.loop = loop;
    this.watchLoop = config.HOOK_MAX_EVENT_LOOP_DELAY_MS > 0;
  }

  onModuleInit(): void {
    if (this.watchLoop) this.loop.start();
  }

  onModuleDestroy(): void {
    this.loop.stop();
  }
}
