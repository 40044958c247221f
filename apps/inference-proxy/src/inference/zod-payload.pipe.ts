import type { PipeTransform } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import type { z } from 'zod';

/**
 * Parses a message payload into its type. The transport has already dead-lettered malformed messages, so a
 * failure here is a bug between transport and handler: the handler fails and the message is redelivered.
 */
export class ZodPayloadPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) throw new RpcException(`payload does not match: ${parsed.error.issues.length} issues`);
    return parsed.data;
  }
}
