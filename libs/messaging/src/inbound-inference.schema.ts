import { z } from 'zod';
import { inferenceRequestV1 } from '@app/contracts';

/** A request as the proxy's handler receives it: the contract body and the parsed message headers. */
export const inboundInferenceSchema = z.object({
  request: inferenceRequestV1,
  headers: z.object({
    correlationId: z.string().min(1),
    deadlineMs: z.number().positive(),
    schema: z.string().min(1),
    traceparent: z.string().optional(),
  }),
});
