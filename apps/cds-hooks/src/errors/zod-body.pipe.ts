import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { describeIssues } from '../hooks/hook-request.schema';
import { HookRefusalException, type RefusalAction } from './hook-refusal.exception';

/**
 * Parses a request body with a zod schema into its type, or refuses the call (400 OperationOutcome naming
 * fields, never values; audited as `action` / invalid_request). One small pipe rather than nestjs-zod: the
 * refusal has to carry the audit action, and zod is already how every boundary here is parsed.
 */
export class ZodBodyPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(
    private readonly schema: S,
    private readonly action: RefusalAction,
  ) {}

  transform(value: unknown): z.infer<S> {
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) {
      throw HookRefusalException.invalid(this.action, 'invalid_request', describeIssues(parsed.error));
    }
    return parsed.data;
  }
}
