import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import type { AuditSearchFilters } from './audit-search.filters';

const text = z.string().trim().min(1).max(200);
const instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

const schema = z
  .object({
    patient: text.optional(),
    from: instant.optional(),
    to: instant.optional(),
    client: text.optional(),
    actor: text.optional(),
    action: z
      .string()
      .regex(/^[a-z0-9_.-]+(,[a-z0-9_.-]+)*$/)
      .max(400)
      .transform((s) => s.split(','))
      .optional(),
    outcome: z.enum(['success', 'failure', 'refused']).optional(),
    hookInstance: z.guid().optional(),
    requestId: text.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().max(100).optional(),
    format: z.enum(['ndjson', 'csv']).optional(),
  })
  .strict();

export interface AuditSearchQuery {
  readonly filters: AuditSearchFilters;
  readonly limit: number;
  readonly cursor?: string;
  readonly format?: 'ndjson' | 'csv';
}

/** Parses the compliance search query string; anything unknown or malformed is a 400 naming no value. */
export function parseAuditSearchQuery(query: unknown): AuditSearchQuery {
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw new BadRequestException('invalid_filter');
  const { limit, cursor, format, action, ...rest } = parsed.data;
  const filters: AuditSearchFilters = { ...rest, ...(action ? { actions: action } : {}) };
  const defined = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)) as AuditSearchFilters;
  return { filters: defined, limit, ...(cursor ? { cursor } : {}), ...(format ? { format } : {}) };
}
