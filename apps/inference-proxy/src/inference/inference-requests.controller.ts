import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { INFERENCE_REQUEST_PATTERN, type InboundInference } from '@app/messaging';
import { InferenceRunner } from './inference-runner.service';

/**
 * Inference requests from the transport (Kafka or in-process), one at a time per message. The payload is already
 * parsed: both sources validate against the contract before delivering (Kafka dead-letters what does not parse, the
 * in-process bus parses at dispatch), so it is not parsed a second time here, per request.
 */
@Controller()
export class InferenceRequestsController {
  constructor(private readonly runner: InferenceRunner) {}

  /** Resolves once the result is durably stored, so the transport commits then. */
  @EventPattern(INFERENCE_REQUEST_PATTERN)
  handle(@Payload() msg: InboundInference): Promise<void> {
    return this.runner.handle(msg);
  }
}
