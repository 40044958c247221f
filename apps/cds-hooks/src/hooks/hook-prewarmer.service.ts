import { Injectable, Logger } from '@nestjs/common';
import { hookPriority } from '@app/contracts';
import { ServiceCatalog } from '../discovery/service-catalog';
import { HookPreparation, type PreparedHook } from './hook-preparation.service';
import { InferenceStarter } from './inference-starter.service';

/**
 * Starts (does not wait for) the inferences of the services a call's service prewarms, at the call's priority,
 * so the EHR's next hook for the same patient finds its result ready. A failure only costs the warm start.
 */
@Injectable()
export class HookPrewarmer {
  private readonly logger = new Logger(HookPrewarmer.name);

  constructor(
    private readonly catalog: ServiceCatalog,
    private readonly preparation: HookPreparation,
    private readonly starter: InferenceStarter,
  ) {}

  async prewarm(prepared: PreparedHook): Promise<void> {
    const { call } = prepared;
    for (const id of call.service.prewarm) {
      const target = this.catalog.find(id);
      if (!target) continue;
      try {
        const warm = await this.starter.start(
          { ...call, service: target },
          await this.preparation.promptFor(prepared, target),
          { priority: hookPriority[call.service.hook] },
        );
        this.logger.debug(`prewarmed ${target.id} with ${warm.requestId} (${warm.reused})`);
      } catch (e) {
        this.logger.warn(`prewarming ${target.id} failed: ${e instanceof Error ? e.name : 'error'}`);
      }
    }
  }
}
