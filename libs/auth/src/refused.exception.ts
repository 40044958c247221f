import { HttpException, HttpStatus } from '@nestjs/common';
import type { RefusalEvent } from './refusal-recorder.service';

/** What a refusal records; where (request id, method, path) is filled in by the filter from the request. */
export type Refusal = Omit<RefusalEvent, 'requestId' | 'method' | 'path'>;

/**
 * A refused call, coded: the edge exception filter records `refusal` in the audit trail (the one place refusals
 * are audited), then answers by status. `refusal` null answers without a record (a rate-limit flood already noted).
 */
export class RefusedException extends HttpException {
  constructor(
    readonly refusal: Refusal | null,
    status: HttpStatus,
    /** A reason code the caller may see (400/413/429 bodies); 401 and 403 stay bare whatever it says. */
    message: string = HttpStatus[status] ?? 'refused',
  ) {
    super(message, status);
  }
}
