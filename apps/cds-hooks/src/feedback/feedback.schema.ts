import { z } from 'zod';

const coding = z.looseObject({
  code: z.string().min(1),
  system: z.string().optional(),
  display: z.string().optional(),
});

/** CDS Hooks 2.0 feedback (§Feedback). */
export const feedbackRequestSchema = z.looseObject({
  feedback: z
    .array(
      z
        .looseObject({
          card: z.uuid(),
          outcome: z.enum(['accepted', 'overridden']),
          acceptedSuggestions: z.array(z.looseObject({ id: z.string().min(1) })).optional(),
          overrideReason: z
            .looseObject({ reason: coding.optional(), userComment: z.string().max(2000).optional() })
            .optional(),
          outcomeTimestamp: z.iso.datetime({ offset: true }),
        })
        .refine((f) => f.outcome === 'accepted' || f.acceptedSuggestions === undefined, {
          message: 'acceptedSuggestions only goes with outcome "accepted"',
          path: ['acceptedSuggestions'],
        })
        .refine((f) => f.outcome === 'overridden' || f.overrideReason === undefined, {
          message: 'overrideReason only goes with outcome "overridden"',
          path: ['overrideReason'],
        }),
    )
    .min(1)
    .max(100),
});

export type FeedbackRequest = z.infer<typeof feedbackRequestSchema>;
