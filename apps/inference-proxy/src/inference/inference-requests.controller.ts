import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { inboundInferenceSchema, INFERENCE_REQUEST_PATTERN, type InboundInference } from '@app/messaging';
import { InferenceRunner } from './inference-runner.service';
import { ZodPayloadPipe } from './zod-payload.pipe';

/** Inference requests from the transport (Kafka or in-process), one at a time per message. */
@Controller()
export class InferenceRequestsController {
  constructor(private readonly runner: InferenceRunner) {}

  /** Resolves once the result is durably stored, so the transport commits then. */
  @EventPattern(INFERENCE_REQUEST_PATTERN)
  handle(@Payload(new ZodPayloadPipe(inboundInferenceSchema)) msg: InboundInference): Promise<void> {
    return this.runner.handle(msg);
  }
}
