import { z } from 'zod';

/** Bodies of the /_double/* control endpoints; also used to check the in-process controls. */

const nonNegativeMs = z.number().finite().min(0);

export const latencySchema = z.strictObject({ ttftMs: nonNegativeMs, perTokenMs: nonNegativeMs });

export const faultPlanSchema = z
  .strictObject({
    kind: z.enum(['overloaded', 'unavailable', 'disconnect', 'malformed', 'slow', 'generation_error']),
    count: z.int().positive().optional(),
    delayMs: nonNegativeMs.optional(),
  })
  .refine((plan) => plan.kind !== 'slow' || plan.delayMs !== undefined, {
    message: "a 'slow' fault needs delayMs",
    path: ['delayMs'],
  });

export const enqueuedResponseSchema = z.strictObject({ text: z.string() });
